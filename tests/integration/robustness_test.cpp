// Load and abuse (PROTOCOL.md §1, §6 ordering, §7 slow consumer and "no byte sequence may
// disturb other connections"): garbage frames, a slow consumer on the tight server, ordering
// of 500 messages, 200 users at once, abrupt disconnects.
#include <chat_test/checks.hpp>
#include <chat_test/client.hpp>
#include <chat_test/env.hpp>
#include <chat_test/process.hpp>
#include <chat_test/session.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <map>
#include <random>
#include <set>

namespace {

using namespace chat_test;

millis since(steady::time_point t) {
  return std::chrono::duration_cast<millis>(steady::now() - t);
}

// One frame body that must be answered with errno 8 on a logged-in connection.
std::string garbage(std::mt19937& rng, std::int64_t self_id) {
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (auto& ch : s) {
      ch = static_cast<char>(pick(256));
    }
    return s;
  };
  const std::string id = std::to_string(self_id);
  switch (pick(7)) {
    case 0:  // random bytes
      return bytes(1 + pick(300));
    case 1: {  // valid JSON that is not an object
      static const char* values[] = {"0",
                                     "-1",
                                     "1e308",
                                     "\"text\"",
                                     "[]",
                                     "[{\"msgid\":15}]",
                                     "null",
                                     "true",
                                     "false",
                                     "[1,[2,[3]]]",
                                     "\"{\\\"msgid\\\":15}\"",
                                     "  42  "};
      return values[pick(std::size(values))];
    }
    case 2: {  // requests with a field of the wrong type or size
      const std::string values[] = {
          R"({"msgid":5,"to":")" + id + R"(","msg":"x"})",
          R"({"msgid":5,"to":)" + id + R"(.0,"msg":"x"})",
          R"({"msgid":5,"to":)" + id + R"(,"msg":["x"]})",
          R"({"msgid":5,"to":)" + id + R"(,"msg":""})",
          R"({"msgid":5,"to":)" + id + R"(,"msg":")" + std::string(8193, 'm') + R"("})",
          R"({"msgid":6,"friendid":[)" + id + "]}",
          R"({"msgid":6,"friendid":0})",
          R"({"msgid":8,"groupname":5})",
          R"({"msgid":8,"groupname":")" + std::string(51, 'g') + R"("})",
          R"({"msgid":10,"groupid":"1"})",
          R"({"msgid":10,"groupid":-5})",
          R"({"msgid":12,"groupid":{},"msg":"x"})",
          R"({"msgid":15,"cid":1.5})",
          R"({"msgid":15,"cid":")" + std::string(65, 'c') + R"("})",
          R"({"msgid":3,"name":5,"pwd":"x"})",
          R"({"msgid":1,"id":"1","pwd":"x"})",
          R"({"msgid":1,"id":1,"name":"x","pwd":"x"})",
      };
      return values[pick(std::size(values))];
    }
    case 3: {  // huge numbers and unknown message ids
      const std::string values[] = {
          R"({"msgid":123456789012345678901234567890})",
          R"({"msgid":-123456789012345678901234567890})",
          R"({"msgid":1e999})",
          R"({"msgid":9223372036854775807})",
          R"({"msgid":-9223372036854775808})",
          R"({"msgid":18446744073709551615})",
          R"({"msgid":5,"to":1e300,"msg":"x"})",
          R"({"msgid":5,"to":-99999999999999999999,"msg":"x"})",
          R"({"msgid":)" + std::to_string(19 + pick(1000)) + "}",
      };
      return values[pick(std::size(values))];
    }
    case 4: {  // deep nesting, balanced or not, never an object with a msgid
      const std::size_t depth = 10 + pick(5000);
      switch (pick(3)) {
        case 0:
          return std::string(depth, '[') + std::string(depth, ']');
        case 1: {
          std::string s;
          for (std::size_t i = 0; i < depth; ++i) {
            s += "{\"a\":";
          }
          return s + "1" + std::string(depth, '}');
        }
        default:
          return std::string(depth, '[');
      }
    }
    case 5:  // invalid UTF-8 in a string of an otherwise valid request
      return R"({"msgid":5,"to":)" + id + R"(,"msg":"ok)" + std::string(1, static_cast<char>(0x80 + pick(64))) +
             std::string(1, static_cast<char>(0xc0 + pick(2))) + R"("})";
    default:  // truncated JSON
      return std::string(R"({"msgid":5,"to":)" + id + R"(,"msg":"trunc)").substr(0, 1 + pick(30));
  }
}

TEST(Robustness, TwoThousandGarbageFramesGet8AndDisturbNobody) {
  const int port = default_port();
  const auto g = register_account(port, "garbage");
  const auto a = register_account(port, "calm");
  const auto b = register_account(port, "calm");
  client cg = connect_as(port, g);
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);

  constexpr int total = 2000;
  constexpr int batch = 50;
  for (int sent = 0; sent < total; sent += batch) {
    std::string bytes;
    std::vector<std::string> bodies;
    for (int i = 0; i < batch; ++i) {
      bodies.push_back(garbage(rng, g.id));
      bytes += frame(bodies.back());
    }
    cg.send_raw(bytes);
    for (int i = 0; i < batch; ++i) {
      const auto f = cg.recv();
      ASSERT_TRUE(is_error_any(f, 8)) << "garbage frame #" << sent + i << ": "
                                      << json::serialize(json::value(bodies[i].substr(0, 200)));
    }
    // The others keep chatting meanwhile.
    ca.send(chat_req(b.id, "calm " + std::to_string(sent), sent));
    EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "calm " + std::to_string(sent)));
    EXPECT_TRUE(is_chat_ack(ca.recv(), sent));
  }
  // The garbage connection is still open and still logged in as g.
  cg.send(chat_req(a.id, "still here"));
  EXPECT_TRUE(is_chat(ca.recv(), g, a.id, "still here"));
  // A frame length over the limit closes that connection only.
  cg.send_raw(frame_header(65537));
  EXPECT_TRUE(is_error(cg.recv(), 11, absent));
  EXPECT_TRUE(cg.wait_closed(3s));
  cb.send(chat_req(a.id, "after the close", "end"));
  EXPECT_TRUE(is_chat(ca.recv(), b, a.id, "after the close"));
  EXPECT_TRUE(is_chat_ack(cb.recv(), "end"));
}

TEST(Robustness, AbruptDisconnectsDoNotDisturbOthers) {
  const int port = default_port();
  const auto a = register_account(port, "ab");
  const auto b = register_account(port, "ab");
  const auto v = register_account(port, "abv");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const std::string full = frame(R"({"msgid":15,"cid":"x"})");
  for (int i = 0; i < 60; ++i) {
    client c(port, "abrupt");
    switch (i % 6) {
      case 0:
        c.send_raw(full.substr(0, 2));  // half a header
        break;
      case 1:
        c.send_raw(full.substr(0, full.size() - 3));  // most of a body
        break;
      case 2:
        c.send_raw(frame_header(60000) + std::string(1000, 'z'));  // big frame, cut short
        break;
      case 3: {  // logged in, messages on their way to it, then a reset
        login(c, v);
        ca.send(chat_req(v.id, "to a vanishing user"));
        linger lg{1, 0};
        ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        break;
      }
      case 4:
        c.send_raw(full + full + full);  // answers never read
        break;
      default: {
        linger lg{1, 0};
        ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        c.send_raw(full.substr(0, 7));
        break;
      }
    }
    if (i % 6 == 3) {
      // v must be offline before the next login as v (up to 1 s, §7): wait for it.
      c.close();
      client probe(port);
      login_after_close(probe, v, steady::now());
      EXPECT_TRUE(is_ack(probe.request({{"msgid", 13}}), 14, 0));  // offline again at once
    }
  }
  ca.send(chat_req(b.id, "all fine", 1));
  EXPECT_TRUE(is_chat(cb.recv(), a, b.id, "all fine"));
  EXPECT_TRUE(is_chat_ack(ca.recv(), 1));
  client fresh(port);
  ping_barrier(fresh);
}

TEST(Robustness, FiveHundredMessagesFromOneSenderArriveInOrder) {
  const int port = default_port();
  const auto a = register_account(port, "ord");
  const auto b = register_account(port, "ord");
  client ca = connect_as(port, a);
  client cb = connect_as(port, b);
  const auto g = create_group(ca, "ord");
  join_group(cb, g.id);
  constexpr int n = 500;
  std::string burst;
  for (int i = 0; i < n; ++i) {
    burst += frame(json::serialize(chat_req(b.id, "one " + std::to_string(i), i)));
    if (i % 50 == 49) {
      ca.send_raw(burst);
      burst.clear();
    }
  }
  std::set<std::int64_t> acked;
  auto frames = cb.recv_n(n, 60s);
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(is_chat(frames[i], a, b.id, "one " + std::to_string(i))) << "message " << i;
  }
  for (int i = 0; i < n; ++i) {
    const auto f = ca.recv(30s);
    ASSERT_EQ(int_field(f, "msgid"), 18) << json::serialize(f);
    acked.insert(int_field(f, "cid").value_or(-1));
  }
  EXPECT_EQ(acked.size(), static_cast<std::size_t>(n));
  // The same for a group.
  for (int i = 0; i < 200; ++i) {
    burst += frame(json::serialize(group_chat_req(g.id, "grp " + std::to_string(i))));
  }
  ca.send_raw(burst);
  frames = cb.recv_n(200, 60s);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(is_group_chat(frames[i], a, g.id, "grp " + std::to_string(i))) << "group message " << i;
  }
  ping_barrier(ca);
  ping_barrier(cb);
}

TEST(Robustness, TwoHundredUsersLogInAndChatAtOnce) {
  const int port = default_port();
  constexpr std::size_t n = 200;
  constexpr std::size_t offsets[] = {1, 17, 101};
  constexpr int per_target = 3;
  constexpr std::size_t per_user = std::size(offsets) * per_target;
  const auto deadline = steady::now() + 180s;
  const auto users = register_accounts(port, n, "crowd", 150s);
  std::map<std::int64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < n; ++i) {
    index_of[users[i].id] = i;
  }

  struct state {
    bool logged_in = false;
    std::int64_t offline_left = 0;
    std::size_t acks = 0;
    std::map<std::string, int> received;  // message text -> times received
  };
  std::vector<client> conns;
  std::vector<state> st(n);
  conns.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    conns.emplace_back(port, "crowd" + std::to_string(i));
    conns[i].send(login_id_req(users[i].id, users[i].pwd));
  }
  auto done = [&] {
    for (const auto& s : st) {
      std::size_t got = 0;
      for (const auto& [msg, count] : s.received) {
        got += static_cast<std::size_t>(count);
      }
      if (!s.logged_in || s.acks < per_user || got < per_user) {
        return false;
      }
    }
    return true;
  };
  auto handle = [&](std::size_t i, json::object& f) {
    auto& s = st[i];
    const auto msgid = int_field(f, "msgid");
    if (msgid == 2) {
      ASSERT_FALSE(s.logged_in) << "second LOGIN_MSG_ACK";
      ASSERT_TRUE(is_ack(f, 2, 0));
      s.logged_in = true;
      s.offline_left = int_field(f, "offline").value_or(-1);
      ASSERT_GE(s.offline_left, 0);
      std::string burst;
      for (std::size_t off : offsets) {
        const auto& to = users[(i + off) % n];
        for (int k = 0; k < per_target; ++k) {
          const std::string msg = "from " + std::to_string(i) + " #" + std::to_string(k);
          burst += frame(json::serialize(chat_req(to.id, msg, msg)));
        }
      }
      conns[i].send_raw(burst);
      return;
    }
    ASSERT_TRUE(s.logged_in) << "frame before the LOGIN_MSG_ACK: " << json::serialize(f);
    if (msgid == 18) {
      ASSERT_TRUE(is_ack(f, 18, 0));
      ++s.acks;
      return;
    }
    ASSERT_EQ(msgid, 5) << json::serialize(f);
    const bool stored = s.offline_left > 0;
    if (stored) {
      --s.offline_left;
    }
    // Sender index from the text; the rest of the object must match exactly.
    const auto text = string_field(f, "msg").value_or("");
    const auto from = std::stoul(text.substr(5, text.find(' ', 5) - 5));
    ASSERT_LT(from, n) << text;
    ASSERT_TRUE(is_chat(f, users[from], users[i].id, text, stored));
    ++s.received[text];
  };

  while (!done()) {
    ASSERT_LT(steady::now(), deadline) << "not everything arrived in time";
    std::vector<pollfd> fds;
    for (auto& c : conns) {
      fds.push_back({c.fd(), POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 1000);
    for (std::size_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      std::vector<json::object> frames;
      const bool open = conns[i].read_available(frames);
      for (auto& f : frames) {
        handle(i, f);
        if (HasFatalFailure()) {
          return;
        }
      }
      ASSERT_TRUE(open) << conns[i].label() << " was closed";
    }
  }
  // Exactly once each: the expected set, no duplicates, and nothing more arrives.
  for (std::size_t i = 0; i < n; ++i) {
    std::map<std::string, int> expected;
    for (std::size_t off : offsets) {
      const std::size_t from = (i + n - off) % n;
      for (int k = 0; k < per_target; ++k) {
        expected["from " + std::to_string(from) + " #" + std::to_string(k)] = 1;
      }
    }
    EXPECT_EQ(st[i].received, expected) << "user " << i;
    EXPECT_EQ(st[i].acks, per_user) << "user " << i;
  }
  for (std::size_t i = 0; i < n; i += 10) {
    ping_barrier(conns[i]);
  }
}

// §7: a client that does not read is closed once its queue passes max_outbound_bytes; what
// was written to its socket counts as delivered, everything else acknowledged is stored.
//
// Runs on a server of its own with the tight server's max_outbound_bytes (262144) but the
// default heartbeat: the slow client must not send anything (not even PINGs) after the
// server may have closed it, because data arriving at a closed socket makes the kernel reset
// the connection and drop bytes the server already wrote, which the protocol counts as
// delivered; with a 1.5 s heartbeat it would have to PING.
TEST(Robustness, SlowConsumerIsClosedAndLosesNothing) {
  const int port = port_base() + 11;
  server_instance server(test_data_dir() / "slow-consumer", port, db_port(),
                         "[limits]\nmax_outbound_bytes = " + std::to_string(tight_max_outbound_bytes) + "\n");
  const auto s = register_account(port, "slow");
  const auto f1 = register_account(port, "flood");
  const auto f2 = register_account(port, "flood");
  const auto p = register_account(port, "pair");
  const auto q = register_account(port, "pair");
  client cs(port, "slow", 16384);
  login(cs, s);
  client cf1 = connect_as(port, f1);
  client cf2 = connect_as(port, f2);
  client cp = connect_as(port, p);
  client cq = connect_as(port, q);
  const account* floods[] = {&f1, &f2};
  client* fconns[] = {&cf1, &cf2};

  // Far more than the queue limit plus any socket buffers (tcp_wmem max is 4 MiB here).
  constexpr std::size_t msg_bytes = 8000;
  constexpr std::size_t total_bytes = 10u << 20;
  constexpr int per_round = 8;  // per flooder
  const int rounds = static_cast<int>(total_bytes / (msg_bytes * per_round * 2)) + 1;
  std::map<std::int64_t, std::vector<std::string>> acked;  // sender -> messages in order
  std::map<std::int64_t, std::map<std::string, std::int64_t>> ack_time;
  auto text = [](std::int64_t from, int k) {
    std::string t = "flood " + std::to_string(from) + " #" + std::to_string(k) + " ";
    t.resize(msg_bytes, 'x');
    return t;
  };
  int k = 0;
  const auto start = steady::now();
  for (int r = 0; r < rounds; ++r) {
    ASSERT_LT(since(start), 45s) << "flooding too slow (the default heartbeat is 60 s)";
    for (int fi = 0; fi < 2; ++fi) {
      std::string burst;
      for (int m = 0; m < per_round; ++m) {
        burst += frame(json::serialize(chat_req(s.id, text(floods[fi]->id, k + m), "k" + std::to_string(k + m))));
      }
      fconns[fi]->send_raw(burst, 30s);
    }
    for (int fi = 0; fi < 2; ++fi) {
      for (int m = 0; m < per_round; ++m) {
        const auto f = fconns[fi]->recv(30s);
        const std::string cid = "k" + std::to_string(k + m);
        ASSERT_TRUE(is_chat_ack(f, cid)) << "flooder " << fi;
        acked[floods[fi]->id].push_back(text(floods[fi]->id, k + m));
        ack_time[floods[fi]->id][text(floods[fi]->id, k + m)] = int_field(f, "time").value_or(0);
      }
    }
    k += per_round;
    // p and q chat normally throughout.
    const std::string pm = "pair " + std::to_string(r);
    cp.send(chat_req(q.id, pm, pm));
    ASSERT_TRUE(is_chat(cq.recv(), p, q.id, pm));
    ASSERT_TRUE(is_chat_ack(cp.recv(), pm));
    cq.send(chat_req(p.id, pm, pm));
    ASSERT_TRUE(is_chat(cp.recv(), q, p.id, pm));
    ASSERT_TRUE(is_chat_ack(cq.recv(), pm));
  }

  // Now s reads: it must reach the end of the stream, closed by the server.
  std::vector<json::object> direct;
  ASSERT_TRUE(cs.wait_closed(20s, &direct))
      << "the slow consumer was never closed (read " << direct.size() << " frames in 20 s)";
  std::map<std::int64_t, std::vector<std::string>> seen;
  for (const auto& f : direct) {
    const auto from = int_field(f, "id").value_or(0);
    ASSERT_TRUE(int_field(f, "msgid") == 5 && (from == f1.id || from == f2.id)) << json::serialize(f).substr(0, 300);
    const auto msg = string_field(f, "msg").value_or("");
    ASSERT_TRUE(is_chat(f, from == f1.id ? f1 : f2, s.id, msg, false));
    EXPECT_EQ(int_field(f, "time"), ack_time[from][msg]);
    seen[from].push_back(msg);
  }
  const std::size_t direct_count = direct.size();
  const auto closed_at = steady::now();

  // s logs in again: every acknowledged message it did not read arrives stored, in order.
  client cs2(port, "slow-again");
  const auto again = login_after_close(cs2, s, closed_at, 60s);
  for (const auto& f : again.offline) {
    const auto from = int_field(f, "id").value_or(0);
    ASSERT_TRUE(from == f1.id || from == f2.id) << json::serialize(f).substr(0, 300);
    const auto msg = string_field(f, "msg").value_or("");
    ASSERT_TRUE(is_chat(f, from == f1.id ? f1 : f2, s.id, msg, true));
    EXPECT_EQ(int_field(f, "time"), ack_time[from][msg]);
    seen[from].push_back(msg);
  }
  for (const auto* fl : floods) {
    const auto& want = acked[fl->id];
    const auto& got = seen[fl->id];
    for (std::size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
      ASSERT_EQ(got[i].substr(0, 40), want[i].substr(0, 40))
          << "position " << i << " from flooder " << fl->id << " (" << direct_count << " read directly, "
          << again.offline.size() << " stored)";
    }
    ASSERT_EQ(got.size(), want.size()) << "from flooder " << fl->id << ": " << direct_count << " read directly, "
                                       << again.offline.size() << " stored";
  }
  EXPECT_GT(again.offline.size(), 0u) << "nothing was stored: was s closed at all?";
  ping_barrier(cs2);
  const auto stopped = server.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.output;
}

}  // namespace
