// What one node publishes on another node's channel: every chat frame routed to that node by
// one batch, each as a record "<id>,<id>,...\n<body length>\n<JSON body>". The route script
// (redis_cluster.cpp) writes it; the receiving node reads it with this parser.
#pragma once

#include <chat/services/link.hpp>

#include <string_view>
#include <vector>

namespace chat::services::detail {

struct forwarded_record {
  std::vector<user_id> recipients;
  std::string_view body;  // points into the payload
};

// Every record of `payload`, in order; false (and `out` unspecified) when it is malformed.
bool parse_forward_payload(std::string_view payload, std::vector<forwarded_record>& out);

}  // namespace chat::services::detail
