// The client's TCP connection, plain or TLS: connect and handshake, reader, writer and pinger
// coroutines.
#include "connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <exception>
#include <utility>

namespace chat::client {

namespace json = boost::json;
using asio::ip::tcp;

namespace {

std::string describe_io_error(const boost::system::error_code& ec) {
  // stream_truncated: the TCP connection ended without TLS's close_notify.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return "the server closed the connection";
  }
  if (ec == asio::error::connection_reset) {
    return "the connection was reset";
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason alone ("bad record mac"), without asio's " (SSL routines)".
    const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    return std::string("TLS error: ") + (reason != nullptr ? reason : ec.message().c_str());
  }
  return ec.message();
}

// "certificate verify failed: unable to get local issuer certificate", "wrong version number".
std::string describe_handshake_error(const boost::system::error_code& ec, SSL* ssl) {
  if (ec.category() != asio::error::get_ssl_category()) {
    return describe_io_error(ec);
  }
  const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  std::string text = reason != nullptr ? reason : ec.message();
  const long verified = ::SSL_get_verify_result(ssl);
  if (verified != X509_V_OK) {
    text += std::string(": ") + ::X509_verify_cert_error_string(verified);
  } else if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER) {
    // The answer was not TLS: typically chat_server's own port, which speaks plain TCP.
    text += " (is it a TLS port? chat_server itself speaks plain TCP)";
  }
  return text;
}

// Coroutines of a connection end by themselves; an exception is a bug: report it and go on.
void report(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "chat_client: connection task failed: %s\n", ex.what());
  }
}

}  // namespace

connection::connection(asio::any_io_executor ex, std::chrono::milliseconds ping_interval, asio::ssl::context* tls)
    : socket_(ex),
      tls_context_(tls),
      resolver_(ex),
      connect_timer_(ex),
      write_signal_(ex),
      ping_timer_(ex),
      ping_interval_(ping_interval) {}

connection::~connection() = default;

std::string connection::tls_version() const {
  return tls_ ? ::SSL_get_version(tls_->native_handle()) : "";
}

awaitable<boost::system::error_code> connection::connect(std::string host, std::string port,
                                                         std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  connect_timer_.expires_after(timeout);
  auto resolved = co_await (resolver_.async_resolve(host, port, use_nothrow) || connect_timer_.async_wait(use_nothrow));
  if (closed_) {
    co_return asio::error::operation_aborted;
  }
  if (resolved.index() == 1) {
    co_return asio::error::timed_out;
  }
  auto [rec, endpoints] = std::get<0>(std::move(resolved));
  if (rec) {
    failure_ = rec.message();
    co_return rec;
  }
  auto connected =
      co_await (asio::async_connect(socket_, endpoints, use_nothrow) || connect_timer_.async_wait(use_nothrow));
  if (closed_) {
    co_return asio::error::operation_aborted;
  }
  if (connected.index() == 1) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    co_return asio::error::timed_out;
  }
  auto [cec, endpoint] = std::get<0>(connected);
  (void)endpoint;
  if (cec) {
    failure_ = cec.message();
    co_return cec;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (tls_context_ == nullptr) {
    co_return cec;
  }
  auto hec = co_await handshake(host);
  co_return hec;
}

awaitable<boost::system::error_code> connection::handshake(const std::string& host) {
  using namespace asio::experimental::awaitable_operators;
  tls_ = std::make_unique<tls_stream>(socket_, *tls_context_);
  SSL* ssl = tls_->native_handle();
  // The certificate must be for the host as given on the command line: an IP address is
  // matched against its IP address SANs, a name against its DNS names (and sent as SNI, which
  // is for names only, so that a server with several certificates picks the right one).
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(host, not_ip);
  X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
  bool named = false;
  if (!not_ip) {
    named = ::X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  } else {
    ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    named = ::X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1 &&
            SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  }
  boost::system::error_code ignored;
  if (!named) {
    socket_.close(ignored);
    failure_ = "TLS: cannot verify a certificate for the host name \"" + host + "\"";
    co_return asio::error::invalid_argument;
  }
  auto shaken = co_await (tls_->async_handshake(asio::ssl::stream_base::client, use_nothrow) ||
                          connect_timer_.async_wait(use_nothrow));
  if (closed_) {
    co_return asio::error::operation_aborted;
  }
  if (shaken.index() == 1) {
    socket_.close(ignored);
    co_return asio::error::timed_out;
  }
  auto [ec] = std::get<0>(shaken);
  if (ec) {
    failure_ = "TLS handshake failed: " + describe_handshake_error(ec, ssl);
    socket_.close(ignored);
  }
  co_return ec;
}

void connection::start(frame_handler on_frame, close_handler on_closed) {
  on_frame_ = std::move(on_frame);
  on_closed_ = std::move(on_closed);
  started_ = true;
  last_sent_ = clock::now();
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->tls_ ? self->reader(*self->tls_) : self->reader(self->socket_); },
      report);
  asio::co_spawn(
      socket_.get_executor(), [self] { return self->tls_ ? self->writer(*self->tls_) : self->writer(self->socket_); },
      report);
  if (ping_interval_.count() > 0) {
    asio::co_spawn(
        socket_.get_executor(), [self] { return self->pinger(); }, report);
  }
}

bool connection::send(const json::object& frame) {
  if (!is_open()) {
    return false;
  }
  const std::string body = json::serialize(frame);
  if (body.size() > max_request_frame_bytes) {
    return false;
  }
  outbox_.push_back(protocol::encode_frame(body));
  last_sent_ = clock::now();
  write_signal_.cancel();
  return true;
}

void connection::close(std::string reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  connect_timer_.cancel();
  write_signal_.cancel();
  ping_timer_.cancel();
  if (started_ && on_closed_) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
      auto handler = std::move(self->on_closed_);
      self->on_frame_ = nullptr;
      handler(reason);
    });
  }
}

template <class Stream>
awaitable<void> connection::reader(Stream& stream) {
  for (;;) {
    auto buf = decoder_.prepare(4096);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf.data(), buf.size()), use_nothrow);
    if (closed_) {
      co_return;
    }
    if (ec) {
      close(describe_io_error(ec));
      co_return;
    }
    decoder_.commit(n);
    for (;;) {
      const auto st = decoder_.next();
      if (st == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (st == protocol::frame_decoder::status::bad_length) {
        close("the server sent a frame of length 0 or over 16 MiB");
        co_return;
      }
      boost::system::error_code pec;
      json::value v = json::parse(decoder_.body(), pec);
      if (pec || !v.is_object()) {
        close("the server sent a frame that is not a JSON object");
        co_return;
      }
      ping_outstanding_ = false;
      on_frame_(std::move(v.get_object()));
      if (closed_) {
        co_return;
      }
    }
  }
}

template <class Stream>
awaitable<void> connection::writer(Stream& stream) {
  std::string batch;
  while (!closed_) {
    if (outbox_.empty()) {
      write_signal_.expires_at(clock::time_point::max());
      co_await write_signal_.async_wait(use_nothrow);
      continue;
    }
    batch.clear();
    while (!outbox_.empty()) {
      batch += outbox_.front();
      outbox_.pop_front();
    }
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(batch), use_nothrow);
    (void)n;
    if (closed_) {
      co_return;
    }
    if (ec) {
      close(describe_io_error(ec));
      co_return;
    }
  }
}

awaitable<void> connection::pinger() {
  while (!closed_) {
    ping_timer_.expires_at(last_sent_ + ping_interval_);
    co_await ping_timer_.async_wait(use_nothrow);
    if (closed_) {
      co_return;
    }
    const auto now = clock::now();
    if (now < last_sent_ + ping_interval_) {
      continue;  // something was sent meanwhile: the connection is not idle
    }
    // Dead peer: PINGs went unanswered (no frame at all) for two intervals.
    if (ping_outstanding_ && now - ping_sent_ >= 2 * ping_interval_) {
      const auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(now - ping_sent_).count() / 1000.0;
      char buf[96];
      std::snprintf(buf, sizeof buf, "no answer from the server for %.1f s after a PING", secs);
      close(buf);
      co_return;
    }
    json::object ping;
    ping["msgid"] = 15;
    send(ping);
    if (!ping_outstanding_) {
      ping_outstanding_ = true;  // cleared by the next frame received
      ping_sent_ = now;
    }
  }
}

std::shared_ptr<asio::ssl::context> make_tls_context(const std::string& ca_file, std::string& error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) {
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  }
  if (!ec) {
    if (ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(ca_file, ec);
    }
  }
  if (ec) {
    const char* reason = ec.category() == asio::error::get_ssl_category()
                             ? ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()))
                             : nullptr;
    error = (ca_file.empty() ? std::string("cannot load the system's CA certificates")
                             : "cannot load CA certificates from " + ca_file) +
            ": " + (reason != nullptr ? reason : ec.message());
    return nullptr;
  }
  return ctx;
}

}  // namespace chat::client
