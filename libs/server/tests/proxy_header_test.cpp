// PROXY protocol v1/v2 header parsing: what nginx and HAProxy send, partial input, and junk.
#include <chat/server/proxy_header.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using chat::server::max_proxy_header_bytes;
using chat::server::parse_proxy_header;
using status = chat::server::proxy_header::status;

std::string v2(unsigned char command, unsigned char family, const std::string& addresses) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(addresses.size() >> 8);
  h += static_cast<char>(addresses.size() & 0xff);
  return h + addresses;
}

TEST(proxy_header, v1_tcp4_as_nginx_sends_it) {
  const std::string line = "PROXY TCP4 192.0.2.10 127.0.0.1 51234 6000\r\n";
  const auto h = parse_proxy_header(line + "\x00\x00\x00\x0c{\"msgid\":15}");
  EXPECT_EQ(h.result, status::done);
  EXPECT_EQ(h.size, line.size());
  EXPECT_EQ(h.address, "192.0.2.10");
  EXPECT_EQ(h.port, 51234);
}

TEST(proxy_header, v1_tcp6_and_unknown) {
  auto h = parse_proxy_header("PROXY TCP6 2001:db8::1 ::1 443 6000\r\n");
  EXPECT_EQ(h.result, status::done);
  EXPECT_EQ(h.address, "2001:db8::1");
  EXPECT_EQ(h.port, 443);

  h = parse_proxy_header("PROXY UNKNOWN ffff::1 ::1 1 2\r\n");
  EXPECT_EQ(h.result, status::done);
  EXPECT_TRUE(h.address.empty());
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN\r\n").result, status::done);
}

TEST(proxy_header, v1_needs_more_until_the_line_ends) {
  const std::string line = "PROXY TCP4 192.0.2.10 127.0.0.1 51234 6000\r\n";
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(line.substr(0, n)).result, status::need_more) << n;
  }
}

TEST(proxy_header, v1_malformed_is_invalid) {
  for (const char* bad : {
           "PROXY TCP4 192.0.2.10 127.0.0.1 51234\r\n",          // a field missing
           "PROXY TCP4 192.0.2.10 127.0.0.1 51234 6000 7\r\n",   // one too many
           "PROXY TCP4 ::1 127.0.0.1 51234 6000\r\n",            // IPv6 in TCP4
           "PROXY TCP4 192.0.2.300 127.0.0.1 51234 6000\r\n",    // not an address
           "PROXY TCP4 192.0.2.10 127.0.0.1 65536 6000\r\n",     // port out of range
           "PROXY TCP4 192.0.2.10 127.0.0.1 0123 6000\r\n",      // leading zero
           "PROXY TCP4 192.0.2.10 127.0.0.1 51234 6000\r\r",     // CR not followed by LF
           "PROXY UDP4 192.0.2.10 127.0.0.1 51234 6000\r\n",     // unknown protocol
           "PROXY  TCP4 192.0.2.10 127.0.0.1 51234 6000\r\n",    // double space
           "proxy TCP4 192.0.2.10 127.0.0.1 51234 6000\r\n",     // case matters
           "GET / HTTP/1.1\r\n",
       }) {
    EXPECT_EQ(parse_proxy_header(bad).result, status::invalid) << bad;
  }
  // A chat frame without the header.
  EXPECT_EQ(parse_proxy_header(std::string("\x00\x00\x00\x0c{\"msgid\":15}", 16)).result, status::invalid);
  // No CRLF within the longest legal line.
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 " + std::string(200, '1')).result, status::invalid);
}

TEST(proxy_header, v2_ipv4_and_ipv6) {
  // 192.0.2.10:51234 -> 127.0.0.1:6000, then a TLV the parser skips.
  const std::string ip4{"\xc0\x00\x02\x0a\x7f\x00\x00\x01\xc8\x22\x17\x70\x04\x00\x01\x00", 16};
  auto h = parse_proxy_header(v2(1, 0x11, ip4) + "rest");
  EXPECT_EQ(h.result, status::done);
  EXPECT_EQ(h.size, 16u + ip4.size());
  EXPECT_EQ(h.address, "192.0.2.10");
  EXPECT_EQ(h.port, 51234);

  std::string ip6(36, '\0');
  ip6[0] = '\x20';
  ip6[1] = '\x01';
  ip6[2] = '\x0d';
  ip6[3] = '\xb8';
  ip6[15] = '\x01';  // 2001:db8::1
  ip6[31] = '\x01';  // ::1
  ip6[32] = '\x01';
  ip6[33] = '\xbb';  // port 443
  h = parse_proxy_header(v2(1, 0x21, ip6));
  EXPECT_EQ(h.result, status::done);
  EXPECT_EQ(h.address, "2001:db8::1");
  EXPECT_EQ(h.port, 443);
}

TEST(proxy_header, v2_local_and_unspec_keep_the_socket_address) {
  auto h = parse_proxy_header(v2(0, 0x00, ""));
  EXPECT_EQ(h.result, status::done);
  EXPECT_EQ(h.size, 16u);
  EXPECT_TRUE(h.address.empty());
  h = parse_proxy_header(v2(1, 0x31, std::string(216, 'x')));  // AF_UNIX
  EXPECT_EQ(h.result, status::done);
  EXPECT_TRUE(h.address.empty());
}

TEST(proxy_header, v2_partial_and_malformed) {
  const std::string ip4{"\xc0\x00\x02\x0a\x7f\x00\x00\x01\xc8\x22\x17\x70", 12};
  const auto whole = v2(1, 0x11, ip4);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(whole.substr(0, n)).result, status::need_more) << n;
  }
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, ip4.substr(0, 8))).result, status::invalid);  // too short for IPv4
  EXPECT_EQ(parse_proxy_header(v2(2, 0x11, ip4)).result, status::invalid);                // unknown command
  auto wrong_version = whole;
  wrong_version[12] = '\x11';
  EXPECT_EQ(parse_proxy_header(wrong_version).result, status::invalid);
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, std::string(max_proxy_header_bytes, 'x'))).result, status::invalid);
}

}  // namespace
