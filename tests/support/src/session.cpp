// Request builders and multi-step helpers for integration tests.
#include <chat_test/checks.hpp>
#include <chat_test/session.hpp>

#include <boost/json/serialize.hpp>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace chat_test {

namespace {

std::atomic<unsigned> counter{0};

[[noreturn]] void unexpected(const client& c, const std::string& what, const json::object& f) {
  throw test_error("[" + c.label() + "] " + what + ", got " + json::serialize(f));
}

}  // namespace

std::string unique_name(std::string_view label) {
  static const auto start = static_cast<unsigned long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() %
      100000000ULL);
  std::string suffix =
      "_" + std::to_string(::getpid()) + "_" + std::to_string(start) + "_" + std::to_string(counter.fetch_add(1));
  std::string name(label.substr(0, 50 - suffix.size()));
  return name + suffix;
}

json::object reg_req(std::string_view name, std::string_view pwd) {
  return {{"msgid", 3}, {"name", name}, {"pwd", pwd}};
}
json::object login_id_req(std::int64_t id, std::string_view pwd) {
  return {{"msgid", 1}, {"id", id}, {"pwd", pwd}};
}
json::object login_name_req(std::string_view name, std::string_view pwd) {
  return {{"msgid", 1}, {"name", name}, {"pwd", pwd}};
}
json::object chat_req(std::int64_t to, std::string_view msg) {
  return {{"msgid", 5}, {"to", to}, {"msg", msg}};
}
json::object chat_req(std::int64_t to, std::string_view msg, const cid_arg& cid) {
  auto r = chat_req(to, msg);
  r["cid"] = cid.v;
  return r;
}
json::object group_chat_req(std::int64_t groupid, std::string_view msg) {
  return {{"msgid", 12}, {"groupid", groupid}, {"msg", msg}};
}
json::object group_chat_req(std::int64_t groupid, std::string_view msg, const cid_arg& cid) {
  auto r = group_chat_req(groupid, msg);
  r["cid"] = cid.v;
  return r;
}
json::object ping_req() {
  return {{"msgid", 15}};
}
json::object ping_req(const cid_arg& cid) {
  return {{"msgid", 15}, {"cid", cid.v}};
}

account register_account(client& c, std::string_view label) {
  account a{0, unique_name(label), "pw-" + unique_name("p")};
  const auto ack = c.request(reg_req(a.name, a.pwd));
  const auto id = int_field(ack, "id");
  if (int_field(ack, "msgid") != 4 || int_field(ack, "errno") != 0 || !id || *id <= 0 ||
      string_field(ack, "name") != a.name) {
    unexpected(c, "REG " + a.name + ": expected a REG_MSG_ACK with errno 0", ack);
  }
  a.id = *id;
  return a;
}

account register_account(int port, std::string_view label) {
  client c(port, "reg");
  return register_account(c, label);
}

std::vector<account> register_accounts(int port, std::size_t n, std::string_view label, millis timeout) {
  std::vector<client> conns;
  std::vector<account> accounts(n);
  conns.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    conns.emplace_back(port, "reg" + std::to_string(i));
    accounts[i].name = unique_name(label);
    accounts[i].pwd = "pw" + std::to_string(i);
    conns[i].send(reg_req(accounts[i].name, accounts[i].pwd));
  }
  const auto deadline = steady::now() + timeout;
  std::size_t done = 0;
  std::vector<bool> have(n, false);
  while (done < n) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < n; ++i) {
      if (!have[i]) {
        fds.push_back({conns[i].fd(), POLLIN, 0});
        idx.push_back(i);
      }
    }
    const auto left = std::chrono::ceil<millis>(deadline - steady::now()).count();
    if (left <= 0) {
      throw test_error("registered " + std::to_string(done) + " of " + std::to_string(n) + " accounts in time");
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 1000)));
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) {
        continue;
      }
      const std::size_t i = idx[k];
      std::vector<json::object> frames;
      const bool open = conns[i].read_available(frames);
      if (frames.empty()) {
        if (!open) {
          throw test_error("[" + conns[i].label() + "] closed before the REG ack");
        }
        continue;
      }
      const auto& ack = frames.front();
      const auto id = int_field(ack, "id");
      if (frames.size() != 1 || int_field(ack, "msgid") != 4 || int_field(ack, "errno") != 0 || !id) {
        unexpected(conns[i], "REG " + accounts[i].name + ": expected one REG_MSG_ACK with errno 0", ack);
      }
      accounts[i].id = *id;
      have[i] = true;
      ++done;
    }
  }
  return accounts;
}

login_result login(client& c, const account& a, millis timeout) {
  login_result r;
  r.ack = c.request(login_id_req(a.id, a.pwd), timeout);
  if (int_field(r.ack, "msgid") != 2 || int_field(r.ack, "errno") != 0) {
    unexpected(c, "LOGIN " + a.name + ": expected a LOGIN_MSG_ACK with errno 0", r.ack);
  }
  const auto n = int_field(r.ack, "offline");
  if (!n || *n < 0) {
    unexpected(c, "LOGIN_MSG_ACK needs a non-negative integer 'offline'", r.ack);
  }
  r.offline = c.recv_n(static_cast<std::size_t>(*n), timeout);
  return r;
}

login_result login_after_close(client& c, const account& a, steady::time_point ended_at, millis timeout) {
  const auto limit = ended_at + 1s + 200ms;
  for (;;) {
    const auto asked_at = steady::now();
    login_result r;
    r.ack = c.request(login_id_req(a.id, a.pwd), timeout);
    if (int_field(r.ack, "msgid") == 2 && int_field(r.ack, "errno") == 3) {
      if (asked_at > limit) {
        unexpected(c,
                   "LOGIN " + a.name + ": still online " +
                       std::to_string(std::chrono::duration_cast<millis>(asked_at - ended_at).count()) +
                       " ms after its connection ended (limit 1 s)",
                   r.ack);
      }
      std::this_thread::sleep_for(150ms);  // polling a state change that sends no event
      continue;
    }
    if (int_field(r.ack, "msgid") != 2 || int_field(r.ack, "errno") != 0) {
      unexpected(c, "LOGIN " + a.name + ": expected a LOGIN_MSG_ACK with errno 0", r.ack);
    }
    const auto n = int_field(r.ack, "offline");
    if (!n || *n < 0) {
      unexpected(c, "LOGIN_MSG_ACK needs a non-negative integer 'offline'", r.ack);
    }
    r.offline = c.recv_n(static_cast<std::size_t>(*n), timeout);
    return r;
  }
}

client connect_as(int port, const account& a, login_result* result) {
  client c(port, a.name);
  auto r = login(c, a);
  if (result != nullptr) {
    *result = std::move(r);
  }
  return c;
}

group create_group(client& c, std::string_view label, std::string_view desc) {
  group g{0, unique_name(label)};
  const auto ack = c.request({{"msgid", 8}, {"groupname", g.name}, {"groupdesc", desc}});
  const auto id = int_field(ack, "groupid");
  if (int_field(ack, "msgid") != 9 || int_field(ack, "errno") != 0 || !id || *id <= 0 ||
      string_field(ack, "groupname") != g.name) {
    unexpected(c, "CREATE_GROUP " + g.name + ": expected a CREATE_GROUP_ACK with errno 0", ack);
  }
  g.id = *id;
  return g;
}

void join_group(client& c, std::int64_t groupid) {
  const auto ack = c.request({{"msgid", 10}, {"groupid", groupid}});
  if (int_field(ack, "msgid") != 11 || int_field(ack, "errno") != 0 || int_field(ack, "groupid") != groupid) {
    unexpected(c, "ADD_GROUP " + std::to_string(groupid) + ": expected an ADD_GROUP_ACK with errno 0", ack);
  }
}

void add_friend(client& c, std::int64_t friendid) {
  const auto ack = c.request({{"msgid", 6}, {"friendid", friendid}});
  if (int_field(ack, "msgid") != 7 || int_field(ack, "errno") != 0 || int_field(ack, "friendid") != friendid) {
    unexpected(c, "ADD_FRIEND " + std::to_string(friendid) + ": expected an ADD_FRIEND_ACK with errno 0", ack);
  }
}

void ping_barrier(client& c, millis timeout) {
  const std::string cid = "barrier-" + std::to_string(counter.fetch_add(1));
  const auto f = c.request(ping_req(cid), timeout);
  if (int_field(f, "msgid") != 16 || string_field(f, "cid") != cid) {
    unexpected(c, "expected the PONG for cid " + cid + " as the next frame", f);
  }
}

std::int64_t send_chat_acked(client& c, std::int64_t to, std::string_view msg, millis timeout) {
  const std::string cid = "c" + std::to_string(counter.fetch_add(1));
  const auto f = c.request(chat_req(to, msg, cid), timeout);
  const auto time = int_field(f, "time");
  if (int_field(f, "msgid") != 18 || int_field(f, "errno") != 0 || string_field(f, "cid") != cid || !time) {
    unexpected(c, "expected CHAT_ACK for cid " + cid, f);
  }
  return *time;
}

}  // namespace chat_test
