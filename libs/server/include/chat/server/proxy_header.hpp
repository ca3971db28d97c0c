// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a balancer such as nginx
// (`proxy_protocol on;`) sends before the client's bytes, naming the client's address.
// Sans-I/O: give it the bytes received so far.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::server {

// Longest header accepted: a v1 line is at most 107 bytes; a v2 header is 16 bytes plus
// addresses and TLVs, which we bound well above what balancers send.
inline constexpr std::size_t max_proxy_header_bytes = 1024;

struct proxy_header {
  enum class status {
    need_more,  // a valid beginning: feed more bytes
    invalid,    // not a PROXY header, or a malformed one: close the connection
    done,       // `size` bytes are the header; the client's bytes follow them
  };
  status result = status::need_more;
  std::size_t size = 0;
  // The client's address and port; empty for v1 UNKNOWN, v2 LOCAL (the balancer's own
  // health check) and families other than TCP/UDP over IPv4/IPv6: use the socket's peer.
  std::string address;
  std::uint16_t port = 0;
};

proxy_header parse_proxy_header(std::string_view bytes);

}  // namespace chat::server
