// raw_forwarder: the ceiling chat_bench --raw measures chat_server against. Accepts
// connections, pairs them by their first frame and relays every later frame to the partner
// (relay_session.hpp). Stops on SIGINT/SIGTERM or after --max-seconds.
#include "pair_registry.hpp"
#include "relay_session.hpp"

#include <chat/asio/awaitable.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using namespace chat;
using asio::ip::tcp;

struct options {
  std::string listen = "127.0.0.1";
  unsigned short port = 0;
  int threads = 1;
  double max_seconds = 0;
  std::size_t max_frame_bytes = 65536;
};

// Each session gets a strand of its own; an accept error (out of descriptors) pauses briefly
// instead of spinning.
awaitable<void> accept_loop(tcp::acceptor& acceptor, bench::pair_registry& registry, std::size_t max_frame_bytes) {
  asio::steady_timer pause(acceptor.get_executor());
  for (;;) {
    asio::any_io_executor strand = asio::make_strand(acceptor.get_executor());
    auto [ec, socket] = co_await acceptor.async_accept(strand, use_nothrow);
    if (ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    std::make_shared<bench::relay_session>(std::move(socket), registry, max_frame_bytes)->start();
  }
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{
      "raw_forwarder: pairs connections by their first frame (a key; the two of a pair agree up to its last\n"
      "':') and relays every later length-prefixed frame to the partner unchanged. The ceiling for chat_bench --raw.",
      "raw_forwarder"};
  app.add_option("--listen", opt.listen, "address to listen on (default 127.0.0.1)");
  app.add_option("--port", opt.port, "TCP port to listen on")->required()->check(CLI::Range(1, 65535));
  app.add_option("--threads", opt.threads, "I/O threads (default 1)")->check(CLI::Range(1, 256));
  app.add_option("--max-seconds", opt.max_seconds, "exit after this many seconds (default 0: run until signalled)")
      ->check(CLI::Range(0.0, 604800.0));
  app.add_option("--max-frame-bytes", opt.max_frame_bytes,
                 "largest frame accepted, as chat_server's limits.max_frame_bytes (default 65536)")
      ->check(CLI::Range(16, 16 << 20));
  CLI11_PARSE(app, argc, argv);

  // Declared before the io_context: sessions still alive when it is destroyed refer to it.
  bench::pair_registry registry;
  asio::io_context io(opt.threads);
  tcp::acceptor acceptor(io);
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(opt.listen), opt.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(tcp::socket::max_listen_connections);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw_forwarder: cannot listen on %s:%u: %s\n", opt.listen.c_str(), opt.port, e.what());
    return 1;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });
  asio::steady_timer limit(io);
  if (opt.max_seconds > 0) {
    limit.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(opt.max_seconds)));
    limit.async_wait([&io](const boost::system::error_code& ec) {
      if (!ec) {
        io.stop();
      }
    });
  }
  asio::co_spawn(io, accept_loop(acceptor, registry, opt.max_frame_bytes), asio::detached);
  std::fprintf(stderr, "raw_forwarder: listening on %s:%u with %d thread(s)\n", opt.listen.c_str(), opt.port,
               opt.threads);

  std::vector<std::thread> threads;
  for (int i = 1; i < opt.threads; ++i) {
    threads.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : threads) {
    t.join();
  }
  return 0;
}
