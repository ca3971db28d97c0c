// mysql_repository against a real MariaDB (skipped unless CHAT_TEST_MYSQL_PORT is set): every
// repository function, duplicates, idempotency, ordering, transactions; and, through a TCP
// proxy the test controls, a server that drops connections, refuses them or hangs. Two tests
// need no server at all: a refused port and a listener that never answers.
#include <chat/storage/mysql_repository.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using chat::awaitable;
using chat::storage::errc;
using chat::storage::mysql_repository;
using chat::storage::pool_params;
using chat::storage::result;
namespace asio = boost::asio;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Environment and helpers

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::optional<std::uint16_t> server_port() {
  const std::string p = env_or("CHAT_TEST_MYSQL_PORT", "");
  if (p.empty()) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(p));
}

pool_params params_for(std::uint16_t port) {
  pool_params p;
  p.host = "127.0.0.1";
  p.port = port;
  p.user = env_or("CHAT_TEST_MYSQL_USER", "chat");
  p.password = env_or("CHAT_TEST_MYSQL_PASSWORD", "chatpw");
  p.database = env_or("CHAT_TEST_MYSQL_DATABASE", "chat");
  p.max_size = 4;
  p.connect_timeout = 2s;
  p.query_timeout = 2s;
  return p;
}

std::string schema_text() {
  std::ifstream in(CHAT_SCHEMA_SQL_PATH);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A name no other test run has used (tests share one database and may run in parallel).
std::string unique_name(std::string_view base) {
  static std::atomic<unsigned> counter{0};
  const auto now = static_cast<unsigned long long>(clock_type::now().time_since_epoch().count());
  return std::string(base) + "_" + std::to_string(::getpid()) + "_" + std::to_string(now % 1000000007ULL) + "_" +
         std::to_string(++counter);
}

// Runs one repository call to completion on a fresh io_context, with a bound.
template <class T>
T run(awaitable<T> op) {
  asio::io_context ioc;
  std::optional<T> out;
  asio::co_spawn(ioc, std::move(op), [&out](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out = std::move(v);
  });
  ioc.run_for(30s);
  EXPECT_TRUE(ioc.stopped()) << "work left pending";
  if (!out) throw std::runtime_error("the call did not complete");
  return std::move(*out);
}

template <class F>
auto timed(F&& f) {
  const auto start = clock_type::now();
  auto r = f();
  return std::make_pair(std::move(r), clock_type::now() - start);
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy in front of the server, on its own thread, that the tests can cut, close or hang.

class tcp_proxy {
 public:
  explicit tcp_proxy(std::uint16_t target) : target_(target), acceptor_(ioc_) {
    listen(0);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~tcp_proxy() {
    call([this] {
      acceptor_.close();
      cut_links();
    });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }

  // Closes every proxied connection, as a server restart does.
  void cut() {
    call([this] { cut_links(); });
  }
  // Closes the listening socket too: new connections are refused, as with a stopped server.
  void refuse() {
    call([this] {
      acceptor_.close();
      cut_links();
    });
  }
  // Listens again on the same port.
  void accept_again() {
    call([this] { listen(port_); });
  }
  // While on, bytes are swallowed and new connections never reach the server: a hung server.
  void hang(bool on) { hang_ = on; }

 private:
  struct link {
    explicit link(asio::io_context& ioc) : client(ioc), server(ioc) {}
    tcp::socket client;
    tcp::socket server;
    void close() {
      boost::system::error_code ignored;
      client.close(ignored);
      server.close(ignored);
    }
  };

  void listen(std::uint16_t port) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), port});
    acceptor_.listen();
    asio::co_spawn(ioc_, accept_loop(this), asio::detached);
  }

  void cut_links() {
    for (auto& w : links_) {
      if (auto l = w.lock()) l->close();
    }
    links_.clear();
  }

  // Runs f on the proxy's thread and waits for it.
  template <class F>
  void call(F f) {
    std::promise<void> done;
    asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  static awaitable<void> accept_loop(tcp_proxy* self) {
    for (;;) {
      auto l = std::make_shared<link>(self->ioc_);
      auto [ec] = co_await self->acceptor_.async_accept(l->client, chat::use_nothrow);
      if (ec) co_return;
      self->links_.push_back(l);
      asio::co_spawn(self->ioc_, serve(self, l), asio::detached);
    }
  }

  static awaitable<void> serve(tcp_proxy* self, std::shared_ptr<link> l) {
    if (self->hang_) {
      co_await pump(self, l, l->client, l->client, true);
      co_return;
    }
    auto [ec] = co_await l->server.async_connect({asio::ip::make_address("127.0.0.1"), self->target_},
                                                 chat::use_nothrow);
    if (ec) {
      l->close();
      co_return;
    }
    asio::co_spawn(self->ioc_, pump(self, l, l->server, l->client, false), asio::detached);
    co_await pump(self, l, l->client, l->server, false);
  }

  static awaitable<void> pump(tcp_proxy* self, std::shared_ptr<link> l, tcp::socket& from, tcp::socket& to,
                              bool swallow) {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), chat::use_nothrow);
      if (ec) break;
      if (swallow || self->hang_) continue;
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), chat::use_nothrow);
      if (wec) break;
    }
    l->close();
  }

  std::uint16_t target_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> hang_{false};
  std::vector<std::weak_ptr<link>> links_;  // on the proxy's thread
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Against the real server

class mysql_repository_test : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = server_port();
    if (!port_) GTEST_SKIP() << "CHAT_TEST_MYSQL_PORT not set";
    repo_ = std::make_unique<mysql_repository>(params_for(*port_));
    const auto applied = repo_->apply_schema_blocking(schema_text());
    ASSERT_TRUE(applied) << applied.error().message();
  }

  chat::storage::user_id make_user(std::string_view base) {
    auto r = run(repo_->create_user(unique_name(base), "$argon2id$v=19$m=19456,t=2,p=1$fake"));
    EXPECT_TRUE(r);
    return r ? *r : 0;
  }

  std::optional<std::uint16_t> port_;
  std::unique_ptr<mysql_repository> repo_;
};

TEST_F(mysql_repository_test, apply_schema_is_idempotent) {
  EXPECT_TRUE(run(repo_->apply_schema(schema_text())));
  EXPECT_TRUE(repo_->apply_schema_blocking(schema_text()));
}

TEST_F(mysql_repository_test, bad_schema_sql_is_unavailable_and_the_pool_recovers) {
  EXPECT_EQ(run(repo_->apply_schema("CREATE TABLE nonsense (;\n")).error(), errc::unavailable);
  EXPECT_TRUE(run(repo_->find_user(0)));
}

TEST_F(mysql_repository_test, create_and_find_users) {
  const std::string name = unique_name("alice");
  const std::string hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  auto id = run(repo_->create_user(name, hash));
  ASSERT_TRUE(id);
  EXPECT_GT(*id, 0);

  auto by_id = run(repo_->find_user(*id));
  ASSERT_TRUE(by_id);
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->id, *id);
  EXPECT_EQ((*by_id)->name, name);
  EXPECT_EQ((*by_id)->password_hash, hash);

  auto by_name = run(repo_->find_user_by_name(name));
  ASSERT_TRUE(by_name && by_name->has_value());
  EXPECT_EQ((*by_name)->id, *id);

  auto missing = run(repo_->find_user(-1));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto missing_name = run(repo_->find_user_by_name(unique_name("nobody")));
  ASSERT_TRUE(missing_name);
  EXPECT_FALSE(missing_name->has_value());
}

TEST_F(mysql_repository_test, a_taken_user_name_is_duplicate_and_the_connection_stays) {
  const std::string name = unique_name("bob");
  ASSERT_TRUE(run(repo_->create_user(name, "h1")));
  const auto before = repo_->stats().total;
  auto again = run(repo_->create_user(name, "h2"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), errc::duplicate);
  EXPECT_EQ(repo_->stats().total, before);  // a duplicate does not break the connection
  auto found = run(repo_->find_user_by_name(name));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->password_hash, "h1");
}

TEST_F(mysql_repository_test, names_compare_byte_for_byte_and_keep_utf8mb4) {
  const std::string base = unique_name("carol");
  const std::string upper = "C" + base.substr(1);
  const std::string accented = base + "\xC3\xA9";  // é
  const std::string plain = base + "e";
  const std::string emoji = base + "\xF0\x9F\x98\x80";  // 😀, 4 bytes
  for (const auto& n : {base, upper, accented, plain, emoji}) {
    EXPECT_TRUE(run(repo_->create_user(n, "h"))) << n;
  }
  auto found = run(repo_->find_user_by_name(emoji));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->name, emoji);
  auto other = run(repo_->find_user_by_name(upper));
  ASSERT_TRUE(other && other->has_value());
  EXPECT_EQ((*other)->name, upper);
}

// Every value travels as a bound parameter of a prepared statement: SQL in the data stays data.
TEST_F(mysql_repository_test, hostile_strings_are_stored_as_data_not_sql) {
  const std::string base = unique_name("sq");
  const std::vector<std::string> names{
      base + "'); DROP TABLE users; --", base + "\\' OR '1'='1", base + "\"; SELECT 1; #", base + "%_*"};
  for (const auto& name : names) {
    auto id = run(repo_->create_user(name, "' OR 1=1 --"));
    ASSERT_TRUE(id) << name;
    auto found = run(repo_->find_user_by_name(name));
    ASSERT_TRUE(found && found->has_value()) << name;
    EXPECT_EQ((*found)->id, *id);
    EXPECT_EQ((*found)->name, name);
    EXPECT_EQ((*found)->password_hash, "' OR 1=1 --");
  }
  // A LIKE-style or always-true name matches nothing.
  for (const std::string& probe : std::vector<std::string>{"' OR '1'='1", base + "%", "%"}) {
    auto found = run(repo_->find_user_by_name(probe));
    ASSERT_TRUE(found) << probe;
    EXPECT_FALSE(found->has_value()) << probe;
  }
  const auto owner = make_user("sqo");
  auto group = run(repo_->create_group(owner, base + "'); DELETE FROM groups; --", "\\'; DROP TABLE x; --"));
  ASSERT_TRUE(group);
  auto g = run(repo_->find_group(*group));
  ASSERT_TRUE(g && g->has_value());
  EXPECT_EQ((*g)->name, base + "'); DELETE FROM groups; --");
  EXPECT_EQ((*g)->description, "\\'; DROP TABLE x; --");
  ASSERT_TRUE(run(repo_->store_offline({{owner, "'); DELETE FROM offline_messages; --"}})));
  auto msgs = run(repo_->offline_messages(owner));
  ASSERT_TRUE(msgs && msgs->size() == 1u);
  EXPECT_EQ((*msgs)[0].payload, "'); DELETE FROM offline_messages; --");
  // The tables are all still there.
  EXPECT_TRUE(run(repo_->find_user(owner)));
}

TEST_F(mysql_repository_test, friends_are_mutual_idempotent_and_ordered) {
  const auto a = make_user("fa");
  const auto b = make_user("fb");
  const auto c = make_user("fc");
  ASSERT_TRUE(run(repo_->add_friend(a, c)));
  ASSERT_TRUE(run(repo_->add_friend(a, b)));
  ASSERT_TRUE(run(repo_->add_friend(b, a)));  // again, other way round
  ASSERT_TRUE(run(repo_->add_friend(a, b)));

  auto of_a = run(repo_->friends_of(a));
  ASSERT_TRUE(of_a);
  ASSERT_EQ(of_a->size(), 2u);
  EXPECT_EQ((*of_a)[0].id, b);  // ordered by id: b was created before c
  EXPECT_EQ((*of_a)[1].id, c);
  auto b_user = run(repo_->find_user(b));
  ASSERT_TRUE(b_user && b_user->has_value());
  EXPECT_EQ((*of_a)[0].name, (*b_user)->name);

  auto of_b = run(repo_->friends_of(b));
  ASSERT_TRUE(of_b);
  ASSERT_EQ(of_b->size(), 1u);
  EXPECT_EQ((*of_b)[0].id, a);

  auto none = run(repo_->friends_of(make_user("loner")));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(mysql_repository_test, groups_membership_roles_and_ordering) {
  const auto creator = make_user("gc");
  const auto u1 = make_user("g1");
  const auto u2 = make_user("g2");
  const std::string gname = unique_name("group");
  auto gid = run(repo_->create_group(creator, gname, "a group \xE2\x9C\x93"));
  ASSERT_TRUE(gid);

  auto g = run(repo_->find_group(*gid));
  ASSERT_TRUE(g && g->has_value());
  EXPECT_EQ((*g)->id, *gid);
  EXPECT_EQ((*g)->name, gname);
  EXPECT_EQ((*g)->description, "a group \xE2\x9C\x93");

  ASSERT_TRUE(run(repo_->join_group(*gid, u2)));
  ASSERT_TRUE(run(repo_->join_group(*gid, u1)));
  ASSERT_TRUE(run(repo_->join_group(*gid, u1)));       // idempotent
  ASSERT_TRUE(run(repo_->join_group(*gid, creator)));  // keeps the creator role

  auto members = run(repo_->group_members(*gid));
  ASSERT_TRUE(members);
  ASSERT_EQ(members->size(), 3u);
  EXPECT_EQ((*members)[0].id, creator);
  EXPECT_EQ((*members)[0].role, chat::storage::group_role::creator);
  EXPECT_EQ((*members)[1].id, u1);
  EXPECT_EQ((*members)[1].role, chat::storage::group_role::normal);
  EXPECT_EQ((*members)[2].id, u2);
  EXPECT_FALSE((*members)[2].name.empty());

  auto gid2 = run(repo_->create_group(u1, unique_name("group"), ""));
  ASSERT_TRUE(gid2);
  auto of_u1 = run(repo_->groups_of(u1));
  ASSERT_TRUE(of_u1);
  ASSERT_EQ(of_u1->size(), 2u);
  EXPECT_EQ((*of_u1)[0].id, *gid);
  EXPECT_EQ((*of_u1)[1].id, *gid2);
  EXPECT_EQ((*of_u1)[1].description, "");

  auto missing = run(repo_->find_group(-1));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(mysql_repository_test, a_taken_group_name_is_duplicate_and_adds_no_member) {
  const auto creator = make_user("dc");
  const auto other = make_user("do");
  const std::string gname = unique_name("dup");
  ASSERT_TRUE(run(repo_->create_group(creator, gname, "first")));
  auto again = run(repo_->create_group(other, gname, "second"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), errc::duplicate);
  auto of_other = run(repo_->groups_of(other));
  ASSERT_TRUE(of_other);
  EXPECT_TRUE(of_other->empty());  // rolled back
}

TEST_F(mysql_repository_test, offline_messages_keep_order_and_are_removed_up_to_an_id) {
  const auto u = make_user("ou");
  const auto v = make_user("ov");
  const std::string big(100000, 'x');
  ASSERT_TRUE(run(repo_->store_offline({{u, R"({"msg":"one"})"},
                                        {v, R"({"msg":"for v"})"},
                                        {u, R"({"msg":"two \u00e9 \ud83d\ude00"})"},
                                        {u, "{\"msg\":\"" + big + "\"}"}})));
  ASSERT_TRUE(run(repo_->store_offline({})));

  auto msgs = run(repo_->offline_messages(u));
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 3u);
  EXPECT_EQ((*msgs)[0].payload, R"({"msg":"one"})");
  EXPECT_EQ((*msgs)[1].payload, R"({"msg":"two \u00e9 \ud83d\ude00"})");
  EXPECT_EQ((*msgs)[2].payload.size(), big.size() + 10);
  EXPECT_LT((*msgs)[0].id, (*msgs)[1].id);
  EXPECT_LT((*msgs)[1].id, (*msgs)[2].id);

  ASSERT_TRUE(run(repo_->remove_offline(u, (*msgs)[1].id)));
  auto rest = run(repo_->offline_messages(u));
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, (*msgs)[2].id);

  auto of_v = run(repo_->offline_messages(v));
  ASSERT_TRUE(of_v);
  ASSERT_EQ(of_v->size(), 1u);
  EXPECT_EQ((*of_v)[0].payload, R"({"msg":"for v"})");

  ASSERT_TRUE(run(repo_->remove_offline(u, (*msgs)[2].id)));
  auto none = run(repo_->offline_messages(u));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(mysql_repository_test, a_failing_offline_batch_stores_nothing) {
  const auto u = make_user("batch");
  // Invalid UTF-8 is rejected by the server (strict mode) after the first row was inserted.
  auto r = run(repo_->store_offline({{u, "fine"}, {u, std::string("bad \xFF\xFE", 6)}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unavailable);
  auto msgs = run(repo_->offline_messages(u));
  ASSERT_TRUE(msgs);
  EXPECT_TRUE(msgs->empty());
}

awaitable<void> create_and_find(mysql_repository& repo, std::string name, std::atomic<int>& ok) {
  auto id = co_await repo.create_user(name, "h");
  if (!id) co_return;
  auto found = co_await repo.find_user(*id);
  if (found && found->has_value() && (*found)->name == name) ++ok;
}

TEST_F(mysql_repository_test, many_concurrent_requests_share_the_bounded_pool) {
  asio::io_context ioc;
  std::atomic<int> ok{0};
  constexpr int n = 60;
  for (int i = 0; i < n; ++i) asio::co_spawn(ioc, create_and_find(*repo_, unique_name("many"), ok), asio::detached);
  std::thread second([&] { ioc.run_for(30s); });
  ioc.run_for(30s);
  second.join();
  EXPECT_TRUE(ioc.stopped());
  EXPECT_EQ(ok.load(), n);
  const auto s = repo_->stats();
  EXPECT_LE(s.total, 4u);
  EXPECT_EQ(s.in_use + s.pending + s.waiting, 0u);
}

TEST_F(mysql_repository_test, stop_makes_later_calls_unavailable) {
  ASSERT_TRUE(run(repo_->find_user(0)));
  repo_->stop();
  EXPECT_EQ(run(repo_->find_user(0)).error(), errc::unavailable);
}

TEST_F(mysql_repository_test, connects_through_the_unix_socket) {
  const std::string socket = env_or("CHAT_TEST_MYSQL_SOCKET", "");
  if (socket.empty()) GTEST_SKIP() << "CHAT_TEST_MYSQL_SOCKET not set";
  auto p = params_for(*port_);
  p.unix_socket = socket;
  mysql_repository repo(p);
  EXPECT_TRUE(run(repo.find_user(0)));
}

// Dropped connections (a server restart): the next requests succeed on fresh connections.
TEST_F(mysql_repository_test, service_resumes_after_the_server_dropped_every_connection) {
  tcp_proxy proxy(*port_);
  auto p = params_for(proxy.port());
  p.ping_on_checkout_after = 0ms;  // so that even the very next request is served
  mysql_repository repo(p);
  ASSERT_TRUE(run(repo.find_user(0)));
  ASSERT_EQ(repo.stats().total, 1u);

  proxy.cut();
  auto id = run(repo.create_user(unique_name("after_cut"), "h"));
  EXPECT_TRUE(id);
  EXPECT_EQ(repo.stats().total, 1u);  // the dead one was replaced
}

// Server down: fast errc::unavailable, no hang; back up: service resumes by itself.
TEST_F(mysql_repository_test, unreachable_server_fails_fast_and_service_resumes) {
  tcp_proxy proxy(*port_);
  mysql_repository repo(params_for(proxy.port()));
  ASSERT_TRUE(run(repo.find_user(0)));

  proxy.refuse();
  for (int i = 0; i < 3; ++i) {
    auto [r, elapsed] = timed([&] { return run(repo.find_user(0)); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::unavailable);
    EXPECT_LT(elapsed, 500ms);
  }
  EXPECT_EQ(repo.stats().total, 0u);

  proxy.accept_again();
  EXPECT_TRUE(run(repo.find_user(0)));
}

// A server that accepts but never answers: bounded by the read and connect timeouts.
TEST_F(mysql_repository_test, a_hung_server_times_out_with_unavailable) {
  tcp_proxy proxy(*port_);
  auto p = params_for(proxy.port());
  p.connect_timeout = 1s;
  p.query_timeout = 1s;
  p.ping_on_checkout_after = std::chrono::hours(1);
  mysql_repository repo(p);
  ASSERT_TRUE(run(repo.find_user(0)));

  proxy.hang(true);
  auto [in_query, t1] = timed([&] { return run(repo.find_user(0)); });  // an open connection
  EXPECT_EQ(in_query.error(), errc::unavailable);
  EXPECT_LT(t1, 4s);
  auto [connecting, t2] = timed([&] { return run(repo.find_user(0)); });  // a new connection
  EXPECT_EQ(connecting.error(), errc::unavailable);
  EXPECT_LT(t2, 4s);

  proxy.hang(false);
  EXPECT_TRUE(run(repo.find_user(0)));
}

// ---------------------------------------------------------------------------------------------
// No server needed

TEST(mysql_repository_without_server, a_refused_port_is_unavailable_at_once) {
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  mysql_repository repo(params_for(port));
  auto [r, elapsed] = timed([&] { return run(repo.create_user("nobody", "h")); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unavailable);
  EXPECT_LT(elapsed, 500ms);
  const auto s = repo.stats();
  EXPECT_EQ(s.total, 0u);
  EXPECT_EQ(s.waiting, 0u);
}

TEST(mysql_repository_without_server, a_silent_listener_is_unavailable_within_the_connect_timeout) {
  asio::io_context ioc;
  tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});  // never accepts, never answers
  auto p = params_for(silent.local_endpoint().port());
  p.connect_timeout = 1s;
  p.query_timeout = 1s;
  mysql_repository repo(p);
  auto [r, elapsed] = timed([&] { return run(repo.find_user(1)); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::unavailable);
  EXPECT_LT(elapsed, 3s);
}

}  // namespace
