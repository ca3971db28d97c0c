// Blocking test client: poll() on a non-blocking socket, frames decoded here (4-byte
// big-endian length + JSON object), independently of the server's own codec.
#include <chat_test/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace chat_test {

namespace {

int poll_ms(steady::time_point deadline) {
  const auto left = std::chrono::ceil<millis>(deadline - steady::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

std::string errno_text(int e) {
  return std::strerror(e);
}

}  // namespace

std::string frame_header(std::uint32_t length) {
  std::string h(4, '\0');
  h[0] = static_cast<char>((length >> 24) & 0xff);
  h[1] = static_cast<char>((length >> 16) & 0xff);
  h[2] = static_cast<char>((length >> 8) & 0xff);
  h[3] = static_cast<char>(length & 0xff);
  return h;
}

std::string frame(std::string_view body) {
  std::string out = frame_header(static_cast<std::uint32_t>(body.size()));
  out.append(body);
  return out;
}

client::client(const std::string& source_address, int port, std::string label)
    : client(port, std::move(label), 0, 5s, source_address) {}

client::client(int port, std::string label, int rcvbuf, millis timeout) : client(port, std::move(label), rcvbuf, timeout, {}) {}

client::client(int port, std::string label, int rcvbuf, millis timeout, const std::string& source_address)
    : label_(std::move(label)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail("socket(): " + errno_text(errno));
  }
  if (!source_address.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_address.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      const int e = errno;
      close();
      fail("bind to " + source_address + ": " + errno_text(e));
    }
  }
  if (rcvbuf > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      const int e = errno;
      close();
      fail("connect to port " + std::to_string(port) + ": " + errno_text(e));
    }
    pollfd p{fd_, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (n <= 0 || err != 0) {
      close();
      fail("connect to port " + std::to_string(port) + ": " + (n <= 0 ? "timed out" : errno_text(err)));
    }
  }
}

client::~client() {
  close();
}

client::client(client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      label_(std::move(other.label_)),
      buffer_(std::move(other.buffer_)),
      pos_(std::exchange(other.pos_, 0)),
      eof_(other.eof_),
      reset_(other.reset_) {}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    label_ = std::move(other.label_);
    buffer_ = std::move(other.buffer_);
    pos_ = std::exchange(other.pos_, 0);
    eof_ = other.eof_;
    reset_ = other.reset_;
  }
  return *this;
}

void client::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void client::fail(const std::string& what) const {
  throw test_error("[" + label_ + "] " + what);
}

bool client::try_send_raw(std::string_view bytes, millis timeout) {
  const auto deadline = steady::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, poll_ms(deadline)) <= 0 && steady::now() >= deadline) {
        return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

void client::send_raw(std::string_view bytes, millis timeout) {
  if (fd_ < 0) {
    fail("send on a closed client");
  }
  const auto deadline = steady::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, poll_ms(deadline)) <= 0 && steady::now() >= deadline) {
        fail("send timed out after " + std::to_string(timeout.count()) + " ms (" + std::to_string(bytes.size()) +
             " bytes left)");
      }
      continue;
    }
    fail("send failed: " + errno_text(errno));
  }
}

void client::send(const json::object& obj) {
  send_text(json::serialize(obj));
}

bool client::take_frame(json::object& out) {
  const std::size_t avail = buffer_.size() - pos_;
  if (avail < 4) {
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + pos_);
  const std::uint32_t len =
      (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (len == 0 || len > max_server_frame) {
    fail("server sent a frame length of " + std::to_string(len));
  }
  if (avail < 4 + std::size_t{len}) {
    return false;
  }
  const std::string_view body(buffer_.data() + pos_ + 4, len);
  pos_ += 4 + std::size_t{len};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    fail("server sent a frame that is not a JSON object: " + std::string(body.substr(0, 200)));
  }
  out = std::move(v.as_object());
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 20)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  return true;
}

bool client::read_some() {
  if (eof_ || fd_ < 0) {
    return false;
  }
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    }
    eof_ = true;
    reset_ = true;
    return false;
  }
}

bool client::wait_readable(steady::time_point deadline) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, poll_ms(deadline));
    if (n > 0) {
      return true;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (steady::now() >= deadline) {
      return false;
    }
  }
}

recv_status client::try_recv(json::object& out, millis timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (take_frame(out)) {
      return recv_status::frame;
    }
    if (eof_ || fd_ < 0) {
      return recv_status::closed;
    }
    if (!wait_readable(deadline)) {
      return recv_status::timeout;
    }
    read_some();
  }
}

json::object client::recv(millis timeout) {
  json::object out;
  switch (try_recv(out, timeout)) {
    case recv_status::frame:
      return out;
    case recv_status::timeout:
      fail("no frame within " + std::to_string(timeout.count()) + " ms");
    case recv_status::closed:
      break;
  }
  fail(std::string("connection ") + (reset_ ? "reset" : "closed") + " while waiting for a frame" +
       (buffered() ? " (" + std::to_string(buffered()) + " bytes of a partial frame buffered)" : ""));
}

std::vector<json::object> client::recv_n(std::size_t n, millis timeout) {
  const auto deadline = steady::now() + timeout;
  std::vector<json::object> out;
  out.reserve(n);
  while (out.size() < n) {
    const auto left = std::max(millis{0}, std::chrono::ceil<millis>(deadline - steady::now()));
    json::object f;
    const auto st = try_recv(f, left);
    if (st == recv_status::timeout) {
      fail("got " + std::to_string(out.size()) + " of " + std::to_string(n) + " frames within " +
           std::to_string(timeout.count()) + " ms");
    }
    if (st == recv_status::closed) {
      fail("connection closed after " + std::to_string(out.size()) + " of " + std::to_string(n) + " frames");
    }
    out.push_back(std::move(f));
  }
  return out;
}

json::object client::request(const json::object& req, millis timeout) {
  send(req);
  return recv(timeout);
}

bool client::wait_closed(millis timeout, std::vector<json::object>* frames) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    json::object f;
    while (take_frame(f)) {
      if (frames) {
        frames->push_back(std::move(f));
      }
    }
    if (eof_ || fd_ < 0) {
      return true;
    }
    if (!wait_readable(deadline)) {
      return false;
    }
    read_some();
  }
}

void client::expect_silence(millis quiet) {
  json::object f;
  switch (try_recv(f, quiet)) {
    case recv_status::timeout:
      return;
    case recv_status::frame:
      fail("expected no frame for " + std::to_string(quiet.count()) + " ms, got " + json::serialize(f));
    case recv_status::closed:
      fail("expected no frame for " + std::to_string(quiet.count()) + " ms, but the connection closed");
  }
}

bool client::read_available(std::vector<json::object>& out) {
  for (;;) {
    json::object f;
    while (take_frame(f)) {
      out.push_back(std::move(f));
    }
    if (eof_ || fd_ < 0) {
      return false;
    }
    const std::size_t before = buffer_.size();
    if (!read_some()) {
      while (take_frame(f)) {
        out.push_back(std::move(f));
      }
      return false;
    }
    if (buffer_.size() == before) {
      return true;  // EAGAIN: nothing more for now
    }
  }
}

}  // namespace chat_test
