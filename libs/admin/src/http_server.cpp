// The admin listener: acceptor loop, one coroutine per connection, routing, readiness with a
// deadline, and shutdown; everything on one strand.
#include <chat/admin/http_server.hpp>
#include <chat/asio/logging.hpp>
#include <chat/metrics/registry.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <atomic>
#include <optional>
#include <unordered_set>

namespace chat::admin {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using response = http::response<http::string_body>;

namespace {

std::shared_ptr<spdlog::logger> logger() {
  return named_logger("admin");
}

constexpr std::string_view text_type = "text/plain; charset=utf-8";
constexpr std::string_view allowed_methods = "GET, HEAD";
// After refusing a request, what the client still sends is read and dropped for this long
// (at most this much), so that closing does not reset the connection before it read the answer.
constexpr std::chrono::milliseconds linger_time{1000};
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::chrono::milliseconds accept_backoff{100};

void log_exception(const char* what, std::exception_ptr ep) {
  if (!ep) {
    return;
  }
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    logger()->warn("{} failed: {}", what, e.what());
  } catch (...) {
    logger()->warn("{} failed", what);
  }
}

response make_response(http::status status, unsigned version, std::string body, std::string_view type = text_type) {
  response res(status, version);
  res.set(http::field::server, "chatd");
  res.set(http::field::content_type, type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The answer to a request the parser refused, if it deserves one.
std::optional<http::status> refusal_status(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return http::status::request_header_fields_too_large;
  }
  if (ec == http::error::body_limit) {
    return http::status::payload_too_large;
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return std::nullopt;  // the client went away
  }
  static const auto& http_category = make_error_code(http::error::bad_target).category();
  if (ec.category() == http_category) {
    return http::status::bad_request;
  }
  return std::nullopt;  // timeouts and socket errors: nobody to answer
}

std::string refusal_body(http::status status) {
  switch (status) {
    case http::status::request_header_fields_too_large:
      return "request header fields too large\n";
    case http::status::payload_too_large:
      return "payload too large\n";
    default:
      return "bad request\n";
  }
}

// A readiness check in flight: the connection waits on `done` until the check's completion
// handler fills `report`, or the timeout passes, or stop() cancels it.
struct readiness_check {
  explicit readiness_check(const asio::any_io_executor& ex) : done(ex) {}
  asio::steady_timer done;
  asio::cancellation_signal cancel;
  std::optional<readiness_report> report;
};

struct connection {
  explicit connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::shared_ptr<readiness_check> check;  // while one is pending
};

enum class route { health, ready, metrics, unknown };

route route_of(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (target == "/healthz") {
    return route::health;
  }
  if (target == "/readyz") {
    return route::ready;
  }
  if (target == "/metrics") {
    return route::metrics;
  }
  return route::unknown;
}

}  // namespace

namespace detail {

struct http_server_state {
  http_server_state(asio::any_io_executor ex, std::string address, std::uint16_t port, http_handlers handlers,
                    http_options options)
      : strand(asio::make_strand(ex)),
        acceptor(strand),
        backoff(strand),
        address(std::move(address)),
        requested_port(port),
        handlers(std::move(handlers)),
        options(options) {}

  asio::strand<asio::any_io_executor> strand;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  const std::string address;
  const std::uint16_t requested_port;
  const http_handlers handlers;
  const http_options options;
  std::atomic<std::uint16_t> bound_port{0};

  // Strand only.
  bool stopped = false;
  bool full_warned = false;
  std::unordered_set<connection*> connections;

  void stop_now();
};

}  // namespace detail

namespace {

// The server's coroutines are free functions taking shared_ptrs: each frame keeps the state
// alive, and no lambda coroutine captures.
using state_ptr = std::shared_ptr<detail::http_server_state>;

awaitable<readiness_report> check_readiness(state_ptr self, std::shared_ptr<connection> conn) {
  if (!self->handlers.readiness) {
    co_return readiness_report{true, {}};
  }
  auto check = std::make_shared<readiness_check>(self->strand);
  awaitable<readiness_report> work;
  bool started = true;
  try {
    work = self->handlers.readiness();
  } catch (const std::exception& e) {
    logger()->warn("readiness check failed: {}", e.what());
    started = false;
  }
  if (!started) {
    co_return readiness_report{false, "not ready: readiness check failed"};
  }
  auto on_done = [check](std::exception_ptr ep, readiness_report report) {
    if (ep) {
      log_exception("readiness check", ep);
      report = readiness_report{false, "not ready: readiness check failed"};
    }
    check->report = std::move(report);
    check->done.cancel();
  };
  asio::co_spawn(self->strand, std::move(work), asio::bind_cancellation_slot(check->cancel.slot(), std::move(on_done)));
  check->done.expires_after(self->options.readiness_timeout);
  conn->check = check;
  if (!check->report) {
    co_await check->done.async_wait(use_nothrow);
  }
  conn->check.reset();
  if (!check->report) {
    // Timed out or stopping: the answer no longer matters, and the check should not linger.
    check->cancel.emit(asio::cancellation_type::terminal);
    co_return readiness_report{false, "not ready: readiness check timed out"};
  }
  co_return std::move(*check->report);
}

// Shuts down the sending side; after a refusal, first drains what the client still sends.
awaitable<void> close_connection(state_ptr self, std::shared_ptr<connection> conn, bool linger) {
  error_code ignored;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (linger && !self->stopped) {
    std::array<char, 4096> sink;
    const auto sink_buffer = asio::buffer(sink);
    std::size_t drained = 0;
    conn->stream.expires_after(linger_time);
    while (drained < linger_bytes) {
      auto [ec, n] = co_await conn->stream.async_read_some(sink_buffer, use_nothrow);
      if (ec) {
        break;
      }
      drained += n;
    }
  }
  conn->stream.close();
}

awaitable<void> serve(state_ptr self, std::shared_ptr<connection> conn) {
  const auto& options = self->options;
  beast::flat_buffer buffer;
  bool keep_alive = true;
  bool linger = false;
  while (keep_alive && !self->stopped) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    conn->stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await http::async_read(conn->stream, buffer, parser, use_nothrow);
    if (ec) {
      const auto status = refusal_status(ec);
      if (!status || self->stopped) {
        break;
      }
      logger()->debug("refused an admin request: {}", ec.message());
      auto res = make_response(*status, 11, refusal_body(*status));
      res.keep_alive(false);
      conn->stream.expires_after(options.write_timeout);
      auto [wec, wn] = co_await http::async_write(conn->stream, res, use_nothrow);
      linger = !wec;
      break;
    }
    const auto& req = parser.get();
    const auto version = req.version();
    const bool head = req.method() == http::verb::head;
    const auto where = route_of(req.target());
    response res;
    if (where == route::unknown || (where == route::metrics && !self->handlers.metrics)) {
      res = make_response(http::status::not_found, version, "not found\n");
    } else if (req.method() != http::verb::get && !head) {
      res = make_response(http::status::method_not_allowed, version, "method not allowed\n");
      res.set(http::field::allow, allowed_methods);
    } else if (where == route::health) {
      res = make_response(http::status::ok, version, "ok\n");
    } else if (where == route::metrics) {
      std::optional<std::string> text;
      try {
        text = self->handlers.metrics();
      } catch (const std::exception& e) {
        logger()->warn("metrics handler failed: {}", e.what());
      }
      res = text ? make_response(http::status::ok, version, std::move(*text), metrics::content_type)
                 : make_response(http::status::internal_server_error, version, "internal error\n");
    } else {
      auto checking = check_readiness(self, conn);
      auto report = co_await std::move(checking);
      if (report.ready) {
        res = make_response(http::status::ok, version, "ready\n");
      } else {
        if (report.detail.empty()) {
          report.detail = "not ready";
        }
        if (report.detail.back() != '\n') {
          report.detail += '\n';
        }
        res = make_response(http::status::service_unavailable, version, std::move(report.detail));
      }
    }
    keep_alive = req.keep_alive() && !self->stopped;
    res.keep_alive(keep_alive);
    if (head) {
      // The headers GET would send, Content-Length included, without the body.
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    conn->stream.expires_after(options.write_timeout);
    auto [wec, wn] = co_await http::async_write(conn->stream, res, use_nothrow);
    if (wec) {
      break;
    }
  }
  auto closing = close_connection(self, conn, linger);
  co_await std::move(closing);
}

awaitable<void> accept_loop(state_ptr self) {
  while (!self->stopped) {
    auto [ec, socket] = co_await self->acceptor.async_accept(use_nothrow);
    if (self->stopped || ec == asio::error::operation_aborted) {
      break;
    }
    if (ec) {
      // Out of file descriptors and the like: pause instead of spinning.
      logger()->warn("admin accept failed: {}", ec.message());
      self->backoff.expires_after(accept_backoff);
      co_await self->backoff.async_wait(use_nothrow);
      continue;
    }
    if (self->connections.size() >= self->options.max_connections) {
      if (!self->full_warned) {
        logger()->warn("admin connection limit ({}) reached: closing new connections", self->options.max_connections);
        self->full_warned = true;
      }
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto conn = std::make_shared<connection>(std::move(socket));
    self->connections.insert(conn.get());
    auto on_exit = [self, raw = conn.get()](std::exception_ptr ep) {
      log_exception("admin connection", ep);
      self->connections.erase(raw);
      if (self->connections.size() < self->options.max_connections) {
        self->full_warned = false;
      }
    };
    asio::co_spawn(self->strand, serve(self, std::move(conn)), std::move(on_exit));
  }
  error_code ignored;
  self->acceptor.close(ignored);  // in case stop() came before start()
}

}  // namespace

void detail::http_server_state::stop_now() {
  if (stopped) {
    return;
  }
  stopped = true;
  error_code ignored;
  const bool was_listening = acceptor.is_open();
  acceptor.close(ignored);
  backoff.cancel();
  for (auto* conn : connections) {
    conn->stream.close();
    if (conn->check) {
      conn->check->done.cancel();  // the connection then cancels the check itself
    }
  }
  if (was_listening) {
    logger()->info("admin http stopped, {} open connections closed", connections.size());
  }
}

http_server::http_server(asio::any_io_executor executor, std::string address, std::uint16_t port,
                         http_handlers handlers, http_options options)
    : state_(std::make_shared<detail::http_server_state>(std::move(executor), std::move(address), port,
                                                         std::move(handlers), options)) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  auto& s = *state_;
  const tcp::endpoint endpoint(asio::ip::make_address(s.address), s.requested_port);
  try {
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(tcp::acceptor::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (...) {
    error_code ignored;
    s.acceptor.close(ignored);
    throw;
  }
  s.bound_port = s.acceptor.local_endpoint().port();
  logger()->info("admin http listening on {}:{}", endpoint.address().to_string(), s.bound_port.load());
  auto on_exit = [](std::exception_ptr ep) { log_exception("admin accept loop", ep); };
  asio::co_spawn(s.strand, accept_loop(state_), std::move(on_exit));
}

std::uint16_t http_server::port() const {
  return state_->bound_port.load();
}

void http_server::stop() {
  asio::post(state_->strand, [self = state_] { self->stop_now(); });
}

}  // namespace chat::admin
