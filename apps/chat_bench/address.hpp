// Resolves the --connect addresses once, before any connection is made.
#pragma once

#include "options.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <vector>

namespace chat::bench {

// The first endpoint of each address, in order. Throws std::runtime_error naming the address
// that does not resolve.
std::vector<boost::asio::ip::tcp::endpoint> resolve_all(const std::vector<host_port>& addresses);

// With two addresses, even sides (A of a pair, even members and connections) use the first and
// odd sides the second; with one, everything uses it.
inline const boost::asio::ip::tcp::endpoint& endpoint_for(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                                                          std::size_t side) {
  return endpoints[side % endpoints.size()];
}

}  // namespace chat::bench
