// Address resolution for --connect.
#include "address.hpp"

#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace chat::bench {

std::vector<boost::asio::ip::tcp::endpoint> resolve_all(const std::vector<host_port>& addresses) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  std::vector<boost::asio::ip::tcp::endpoint> out;
  for (const auto& a : addresses) {
    boost::system::error_code ec;
    const auto results = resolver.resolve(a.host, a.port, ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot resolve " + a.host + ":" + a.port + ": " + ec.message());
    }
    out.push_back(results.begin()->endpoint());
  }
  return out;
}

}  // namespace chat::bench
