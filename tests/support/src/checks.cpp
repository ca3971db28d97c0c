// Frame assertions; each failure message carries the whole frame.
#include <chat_test/checks.hpp>
#include <chat_test/session.hpp>

#include <algorithm>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <set>

namespace chat_test {

namespace {

testing::AssertionResult failure(const json::object& f, const std::string& what) {
  return testing::AssertionFailure() << what << "\n  frame: " << json::serialize(f);
}

// Keys of `f` that are not in `allowed`, and keys of `allowed` that `f` lacks.
std::string key_diff(const json::object& f, const std::set<std::string>& allowed) {
  std::string out;
  for (const auto& kv : f) {
    if (!allowed.contains(std::string(kv.key()))) {
      out += " unexpected key '" + std::string(kv.key()) + "';";
    }
  }
  for (const auto& k : allowed) {
    if (!f.contains(k)) {
      out += " missing key '" + k + "';";
    }
  }
  return out;
}

}  // namespace

std::optional<std::int64_t> int_field(const json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

std::optional<std::string> string_field(const json::object& f, std::string_view key) {
  const auto* v = f.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::string to_text(const json::value& v) {
  return json::serialize(v);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

testing::AssertionResult has_fields(const json::object& f, const json::object& expected) {
  for (const auto& kv : expected) {
    const auto* v = f.if_contains(kv.key());
    if (v == nullptr) {
      return failure(f, "missing key '" + std::string(kv.key()) + "' (expected " + to_text(kv.value()) + ")");
    }
    if (*v != kv.value()) {
      return failure(f, "key '" + std::string(kv.key()) + "' is " + to_text(*v) + ", expected " + to_text(kv.value()));
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult is_ack(const json::object& f, std::int64_t msgid, int err) {
  if (int_field(f, "msgid") != msgid) {
    return failure(f, "expected msgid " + std::to_string(msgid));
  }
  if (int_field(f, "errno") != err) {
    return failure(f, "expected errno " + std::to_string(err));
  }
  if (err != 0) {
    const auto msg = string_field(f, "errmsg");
    if (!msg || msg->empty()) {
      return failure(f, "errno != 0 needs a non-empty string errmsg");
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult is_error(const json::object& f, int err, std::optional<std::int64_t> req,
                                  const std::optional<json::value>& cid) {
  if (auto r = is_ack(f, 17, err); !r) {
    return r;
  }
  if (req) {
    if (int_field(f, "req") != *req) {
      return failure(f, "expected req " + std::to_string(*req));
    }
  } else if (f.contains("req")) {
    return failure(f, "expected no req (the request had no integer msgid)");
  }
  if (cid) {
    const auto* v = f.if_contains("cid");
    if (v == nullptr || *v != *cid) {
      return failure(f, "expected cid " + to_text(*cid));
    }
  } else if (f.contains("cid")) {
    return failure(f, "expected no cid (the request carried no valid cid)");
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult is_error_any(const json::object& f, int err) {
  return is_ack(f, 17, err);
}

// A delivered chat object: exactly these keys, these values, a positive server time.
static testing::AssertionResult is_chat_object(const json::object& f, std::int64_t msgid, const account& from,
                                        const char* target_key, std::int64_t target, std::string_view msg,
                                        bool offline, std::string_view what) {
  std::set<std::string> keys{"msgid", "id", "name", target_key, "msg", "time"};
  if (offline) {
    keys.insert("offline");
  }
  if (auto d = key_diff(f, keys); !d.empty()) {
    return failure(f, std::string(what) + " has the wrong keys:" + d);
  }
  json::object expected{{"msgid", msgid}, {"id", from.id}, {"name", from.name}, {target_key, target}, {"msg", msg}};
  if (offline) {
    expected["offline"] = true;
  }
  if (auto r = has_fields(f, expected); !r) {
    return r;
  }
  if (!int_field(f, "time") || *int_field(f, "time") <= 0) {
    return failure(f, "time must be a positive integer");
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult is_chat(const json::object& f, const account& from, std::int64_t to, std::string_view msg,
                                 bool offline) {
  return is_chat_object(f, 5, from, "to", to, msg, offline, "one-to-one chat message");
}

testing::AssertionResult is_group_chat(const json::object& f, const account& from, std::int64_t groupid,
                                       std::string_view msg, bool offline) {
  return is_chat_object(f, 12, from, "groupid", groupid, msg, offline, "group chat message");
}

testing::AssertionResult is_chat_ack(const json::object& f, const cid_arg& cid_in) {
  const json::value& cid = cid_in.v;
  if (auto r = is_ack(f, 18, 0); !r) {
    return r;
  }
  const auto* v = f.if_contains("cid");
  if (v == nullptr || *v != cid) {
    return failure(f, "expected cid " + to_text(cid));
  }
  if (!int_field(f, "time") || *int_field(f, "time") <= 0) {
    return failure(f, "CHAT_ACK time must be a positive integer");
  }
  return testing::AssertionSuccess();
}

void expect_error_reply(client& c, std::string_view body, int err, std::optional<std::int64_t> req,
                        const std::optional<json::value>& cid) {
  SCOPED_TRACE("request body: " + std::string(body.substr(0, 300)));
  c.send_text(body);
  EXPECT_TRUE(is_error(c.recv(), err, req, cid));
}

void expect_error_reply(client& c, const json::object& body, int err, std::optional<std::int64_t> req,
                        const std::optional<json::value>& cid) {
  expect_error_reply(c, std::string_view(json::serialize(body)), err, req, cid);
}

// Sorts an array of objects by their "id" (the protocol does not order lists), recursively
// for groups' "users".
boost::json::array by_id(boost::json::array a) {
  for (auto& v : a) {
    if (v.is_object() && v.as_object().contains("users") && v.as_object()["users"].is_array()) {
      v.as_object()["users"] = by_id(v.as_object()["users"].as_array());
    }
  }
  std::sort(a.begin(), a.end(), [](const boost::json::value& x, const boost::json::value& y) {
    const auto ix = x.is_object() ? int_field(x.as_object(), "id").value_or(0) : 0;
    const auto iy = y.is_object() ? int_field(y.as_object(), "id").value_or(0) : 0;
    return ix < iy;
  });
  return a;
}

boost::json::array list_of(const boost::json::object& ack, std::string_view key) {
  const auto* v = ack.if_contains(key);
  return v != nullptr && v->is_array() ? by_id(v->as_array()) : boost::json::array{};
}

boost::json::object friend_entry(const account& a, std::string_view state) {
  return {{"id", a.id}, {"name", a.name}, {"state", state}};
}

boost::json::object member(const account& a, std::string_view state, std::string_view role) {
  return {{"id", a.id}, {"name", a.name}, {"state", state}, {"role", role}};
}

boost::json::object group_entry(const group& g, std::string_view desc, boost::json::array users) {
  return {{"id", g.id}, {"groupname", g.name}, {"groupdesc", desc}, {"users", by_id(std::move(users))}};
}

}  // namespace chat_test
