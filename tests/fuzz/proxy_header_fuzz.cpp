// libFuzzer target: server::parse_proxy_header on arbitrary bytes (the first bytes any
// connection sends when `[server] proxy_protocol` is on), with its invariants: a complete
// header is never longer than the input or the limit, stays the same header whatever follows
// it, and every shorter prefix of it is "need more"; an address it reports is a valid one.
#include <chat/server/proxy_header.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using chat::server::max_proxy_header_bytes;
using chat::server::parse_proxy_header;
using status = chat::server::proxy_header::status;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "proxy_header_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool valid_address(const std::string& a) {
  std::array<unsigned char, 16> out{};
  return inet_pton(AF_INET, a.c_str(), out.data()) == 1 || inet_pton(AF_INET6, a.c_str(), out.data()) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto h = parse_proxy_header(bytes);
  switch (h.result) {
    case status::need_more:
      check(size < max_proxy_header_bytes + 16, "need_more beyond any legal header");
      check(h.size == 0 && h.address.empty(), "need_more with a result");
      break;
    case status::invalid:
      break;
    case status::done: {
      check(h.size > 0 && h.size <= size, "header size outside the input");
      check(h.size <= max_proxy_header_bytes, "header over the limit");
      check(h.address.empty() || valid_address(h.address), "reported address is not an address");
      const auto again = parse_proxy_header(bytes.substr(0, h.size));
      check(again.result == status::done && again.size == h.size && again.address == h.address &&
                again.port == h.port,
            "the header alone parses differently");
      for (std::size_t n = 0; n < h.size; ++n) {
        check(parse_proxy_header(bytes.substr(0, n)).result == status::need_more, "a prefix is not need_more");
      }
      break;
    }
  }
  return 0;
}
