// PROXY protocol v1 (a text line) and v2 (binary), as HAProxy's proxy-protocol.txt defines them.
#include <chat/server/proxy_header.hpp>

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace chat::server {

namespace {

using status = proxy_header::status;

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::size_t v1_max_line = 107;  // including CRLF
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v2_fixed = 16;

proxy_header fail() { return {status::invalid, 0, {}, 0}; }

// True while `bytes` could still become `prefix` (or already starts with it).
bool could_start(std::string_view bytes, std::string_view prefix) {
  const auto n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

// Splits off the next space-separated token.
std::string_view next_token(std::string_view& rest) {
  const auto space = rest.find(' ');
  auto token = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  return token;
}

// A canonical address of `family` (no leading zeros, no surrounding spaces), as text.
bool valid_address(int family, std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return false;
  }
  std::array<char, INET6_ADDRSTRLEN> z{};
  std::memcpy(z.data(), text.data(), text.size());
  std::array<unsigned char, 16> out{};
  return inet_pton(family, z.data(), out.data()) == 1;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

// "PROXY TCP4 src dst sport dport\r\n", "PROXY TCP6 ...", or "PROXY UNKNOWN[ anything]\r\n".
proxy_header parse_v1(std::string_view bytes) {
  const auto limit = std::min(bytes.size(), v1_max_line);
  const auto cr = bytes.substr(0, limit).find('\r');
  if (cr == std::string_view::npos) {
    return bytes.size() >= v1_max_line ? fail() : proxy_header{};
  }
  if (cr + 1 >= bytes.size()) {
    return {};  // the LF has not arrived yet
  }
  if (bytes[cr + 1] != '\n') {
    return fail();
  }
  const std::size_t size = cr + 2;
  std::string_view rest = bytes.substr(v1_prefix.size(), cr - v1_prefix.size());
  const auto protocol = next_token(rest);
  if (protocol == "UNKNOWN") {
    return {status::done, size, {}, 0};
  }
  int family = 0;
  if (protocol == "TCP4") {
    family = AF_INET;
  } else if (protocol == "TCP6") {
    family = AF_INET6;
  } else {
    return fail();
  }
  const auto source = next_token(rest);
  const auto destination = next_token(rest);
  const auto source_port = next_token(rest);
  const auto destination_port = next_token(rest);
  proxy_header h{status::done, size, std::string(source), 0};
  std::uint16_t ignored = 0;
  if (!rest.empty() || !valid_address(family, source) || !valid_address(family, destination) ||
      !parse_port(source_port, h.port) || !parse_port(destination_port, ignored)) {
    return fail();
  }
  return h;
}

std::uint16_t read_u16(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
}

proxy_header parse_v2(std::string_view bytes) {
  if (bytes.size() < v2_fixed) {
    return {};
  }
  const auto version_command = static_cast<unsigned char>(bytes[12]);
  const auto family_protocol = static_cast<unsigned char>(bytes[13]);
  const std::size_t length = read_u16(bytes.data() + 14);
  if ((version_command >> 4) != 2 || (version_command & 0x0f) > 1 || v2_fixed + length > max_proxy_header_bytes) {
    return fail();
  }
  if (bytes.size() < v2_fixed + length) {
    return {};
  }
  proxy_header h{status::done, v2_fixed + length, {}, 0};
  if ((version_command & 0x0f) == 0) {
    return h;  // LOCAL: the balancer itself, e.g. a health check
  }
  const char* a = bytes.data() + v2_fixed;
  const auto family = family_protocol >> 4;
  const auto transport = family_protocol & 0x0f;
  if (transport != 1 && transport != 2) {
    return h;  // UNSPEC: keep the socket's peer
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (family == 1) {  // IPv4: src, dst, sport, dport
    if (length < 12) {
      return fail();
    }
    inet_ntop(AF_INET, a, text.data(), text.size());
    h.port = read_u16(a + 8);
  } else if (family == 2) {  // IPv6
    if (length < 36) {
      return fail();
    }
    inet_ntop(AF_INET6, a, text.data(), text.size());
    h.port = read_u16(a + 32);
  } else {
    return h;  // AF_UNIX or unspecified: no network address to use
  }
  h.address = text.data();
  return h;
}

}  // namespace

proxy_header parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) {
    return {};
  }
  if (could_start(bytes, v2_signature)) {
    return bytes.size() < v2_signature.size() ? proxy_header{} : parse_v2(bytes);
  }
  if (could_start(bytes, v1_prefix)) {
    return bytes.size() < v1_prefix.size() ? proxy_header{} : parse_v1(bytes);
  }
  return fail();
}

}  // namespace chat::server
