// Commands -> requests -> printed answers; received messages; automatic login after reconnects.
#include "controller.hpp"

#include "frame_fields.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace chat::client {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

void report(std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "chat_client: task failed: %s\n", ex.what());
  }
}

error_context context_of(const command& cmd, std::int64_t to) {
  error_context ctx;
  ctx.kind = cmd.kind;
  switch (cmd.kind) {
    case command_kind::chat:
      ctx.id = to;
      ctx.name = cmd.user.name;
      break;
    case command_kind::login:
      ctx.id = cmd.user.id;
      ctx.name = cmd.user.name;
      break;
    default:
      ctx.id = cmd.id;
      ctx.name = cmd.name;
      break;
  }
  return ctx;
}

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

controller::controller(asio::any_io_executor ex, session_options sopts, controller_options copts, console& out)
    : ex_(ex),
      opts_(std::move(copts)),
      request_timeout_(sopts.request_timeout),
      out_(out),
      session_(ex, std::move(sopts), out,
               session::hooks{
                   [this] { on_connected(); },
                   [this](const std::string&) { on_lost(); },
                   [this](const json::object& f) { on_push(f); },
                   [this](const std::string& reason) {
                     if (on_fatal) {
                       on_fatal(reason);
                     }
                   },
               }) {}

void controller::start() {
  session_.start();
}

void controller::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  session_.stop();
  message_waiters_.notify_all();
  sleepers_.notify_all();
}

void controller::error(std::string_view sentence) {
  out_.line("error: " + std::string(sentence));
}

void controller::identity_changed() {
  if (on_identity) {
    on_identity(state_.logged_in() ? state_.self_name() : std::string());
  }
}

awaitable<controller::outcome> controller::execute(command cmd) {
  switch (cmd.kind) {
    case command_kind::help:
      out_.line(help_text(cmd.name));
      co_return outcome::ok;
    case command_kind::quit:
      co_return outcome::quit;
    case command_kind::friends:
    case command_kind::groups:
      if (!state_.logged_in()) {
        error("you are not logged in (use 'login' first)");
        co_return outcome::failed;
      }
      out_.line(cmd.kind == command_kind::friends ? friends_listing(state_) : groups_listing(state_));
      co_return outcome::ok;
    case command_kind::sleep: {
      const auto deadline = std::chrono::steady_clock::now() + cmd.duration;
      while (!stopped_ && std::chrono::steady_clock::now() < deadline) {
        co_await sleepers_.wait(deadline);
      }
      co_return stopped_ ? outcome::failed : outcome::ok;
    }
    case command_kind::wait_message:
      co_return co_await wait_messages(cmd.count, cmd.duration);
    default:
      co_return co_await remote(std::move(cmd));
  }
}

awaitable<controller::outcome> controller::wait_messages(std::int64_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!stopped_ && unconsumed_ < count && std::chrono::steady_clock::now() < deadline) {
    co_await message_waiters_.wait(deadline);
  }
  if (unconsumed_ >= count) {
    unconsumed_ -= count;
    co_return outcome::ok;
  }
  if (!stopped_) {
    error("timed out after " + ms_text(timeout) + " waiting for " + count_of(count, "message", "messages") + " (" +
          std::to_string(unconsumed_) + " arrived)");
  }
  co_return outcome::failed;
}

awaitable<controller::outcome> controller::remote(command cmd) {
  json::object req;
  std::int64_t to = 0;
  switch (cmd.kind) {
    case command_kind::reg:
      req["msgid"] = 3;
      req["name"] = cmd.name;
      req["pwd"] = cmd.password;
      break;
    case command_kind::login:
      if (state_.logged_in()) {
        error("already logged in as " + user_label(state_, state_.self_id()) + " (use 'logout' first)");
        co_return outcome::failed;
      }
      req["msgid"] = 1;
      if (cmd.user.id > 0) {
        req["id"] = cmd.user.id;
      } else {
        req["name"] = cmd.user.name;
      }
      req["pwd"] = cmd.password;
      break;
    case command_kind::chat:
      if (cmd.user.id > 0) {
        to = cmd.user.id;
      } else if (auto id = state_.find_user(cmd.user.name)) {
        to = *id;
      } else {
        error("no known user is named \"" + sanitize(cmd.user.name) +
              "\" (names come from your friends, your groups' members and messages received; use the id)");
        co_return outcome::failed;
      }
      req["msgid"] = 5;
      req["to"] = to;
      req["msg"] = cmd.text;
      break;
    case command_kind::add_friend:
      req["msgid"] = 6;
      req["friendid"] = cmd.id;
      break;
    case command_kind::create_group:
      req["msgid"] = 8;
      req["groupname"] = cmd.name;
      req["groupdesc"] = cmd.text;
      break;
    case command_kind::add_group:
      req["msgid"] = 10;
      req["groupid"] = cmd.id;
      break;
    case command_kind::group_chat:
      req["msgid"] = 12;
      req["groupid"] = cmd.id;
      req["msg"] = cmd.text;
      break;
    case command_kind::logout:
      req["msgid"] = 13;
      break;
    default:
      co_return outcome::failed;
  }
  if (opts_.interactive && !session_.ready()) {
    out_.status("* not connected yet: the command waits for the connection");
  }
  const command_kind kind = cmd.kind;
  session::answer_handler handler = [this, cmd = std::move(cmd), to](const json::object& f) { on_answer(cmd, to, f); };
  const auto r = co_await session_.request(std::move(req), std::move(handler));
  switch (r.st) {
    case session::status::answered:
      if (errno_of(r.frame) != 0) {
        co_return outcome::failed;
      }
      if (kind == command_kind::login) {
        co_await wait_stored();
      }
      co_return outcome::ok;
    case session::status::timeout:
      error("no answer from the server within " + ms_text(request_timeout_));
      co_return outcome::failed;
    case session::status::lost:
      error("the connection was lost before the server answered (the request may have been carried out)");
      co_return outcome::failed;
    case session::status::unavailable:
      error("not connected to the server (still trying to reconnect)");
      co_return outcome::failed;
    case session::status::too_large:
      error("the request is too large to send (a frame may hold at most " +
            std::to_string(max_request_frame_bytes / 1024) + " KiB)");
      co_return outcome::failed;
    case session::status::stopped:
      co_return outcome::failed;
  }
  co_return outcome::failed;
}

void controller::on_answer(const command& cmd, std::int64_t to, const json::object& f) {
  const int err = errno_of(f);
  if (err != 0) {
    error(error_sentence(err, string_field(f, "errmsg"), context_of(cmd, to)));
    return;
  }
  switch (cmd.kind) {
    case command_kind::reg:
      out_.line("registered " + sanitize(cmd.name) + " with id " + std::to_string(int_field(f, "id").value_or(0)));
      break;
    case command_kind::login:
      state_.apply_login(f);
      creds_ = credentials{state_.self_id(), cmd.password};
      out_.line(login_summary(state_, false));
      begin_stored(int_field(f, "offline").value_or(0));
      identity_changed();
      break;
    case command_kind::chat:
    case command_kind::group_chat:
      out_.line(sent_line(cmd, to, int_field(f, "time").value_or(0), state_, opts_.format));
      break;
    case command_kind::add_friend:
      state_.add_friend(cmd.id);
      out_.line("added friend " + user_label(state_, cmd.id));
      break;
    case command_kind::create_group: {
      const auto id = int_field(f, "groupid").value_or(0);
      state_.add_created_group(id, cmd.name, cmd.text);
      out_.line("created group " + sanitize(cmd.name) + " (#" + std::to_string(id) + ")");
      break;
    }
    case command_kind::add_group:
      state_.add_joined_group(cmd.id);
      out_.line("joined group #" + std::to_string(cmd.id));
      break;
    case command_kind::logout:
      state_.clear();
      creds_.reset();
      stored_remaining_ = 0;
      out_.line("logged out");
      identity_changed();
      break;
    default:
      break;
  }
}

void controller::begin_stored(std::int64_t count) {
  stored_remaining_ = std::max<std::int64_t>(count, 0);
  if (stored_remaining_ > 0) {
    out_.line(stored_heading(stored_remaining_));
  }
}

void controller::end_stored() {
  stored_remaining_ = 0;
  out_.line(stored_footer());
  message_waiters_.notify_all();
}

awaitable<void> controller::wait_stored() {
  const auto deadline = std::chrono::steady_clock::now() + request_timeout_;
  while (!stopped_ && stored_remaining_ > 0 && session_.connected() && std::chrono::steady_clock::now() < deadline) {
    co_await message_waiters_.wait(deadline);
  }
}

void controller::on_push(const json::object& f) {
  const auto msgid = int_field(f, "msgid").value_or(0);
  if (msgid == 5 || msgid == 12) {
    const bool stored = bool_field(f, "offline");
    if (!stored && stored_remaining_ > 0) {
      end_stored();  // a live message: the server has sent every stored one
    }
    state_.learn_from_message(f);
    out_.line(incoming_line(f, state_, opts_.format));
    ++unconsumed_;
    if (stored && stored_remaining_ > 0 && --stored_remaining_ == 0) {
      end_stored();
    }
    message_waiters_.notify_all();
    return;
  }
  if (msgid == 17) {
    error_context ctx;
    error("the server reports: " + error_sentence(errno_of(f), string_field(f, "errmsg"), ctx));
  }
}

void controller::on_connected() {
  if (!creds_) {
    session_.set_ready(true);
    return;
  }
  asio::co_spawn(
      ex_, [this] { return relogin(); }, report);
}

void controller::on_lost() {
  stored_remaining_ = 0;
  message_waiters_.notify_all();
}

void controller::on_relogin_answer(const json::object& f) {
  const int err = errno_of(f);
  if (err != 0) {
    error_context ctx;
    ctx.kind = command_kind::login;
    out_.status("* logging in again failed: " + error_sentence(err, string_field(f, "errmsg"), ctx) +
                (err == 2 ? "; log in with 'login'" : "; retrying"));
    return;
  }
  state_.apply_login(f);
  if (creds_) {
    creds_->id = state_.self_id();
  }
  out_.status(login_summary(state_, true));
  begin_stored(int_field(f, "offline").value_or(0));
  identity_changed();
}

awaitable<void> controller::relogin() {
  const auto gen = session_.generation();
  auto delay = 500ms;
  while (!stopped_ && creds_ && session_.generation() == gen && session_.connected()) {
    json::object req;
    req["msgid"] = 1;
    req["id"] = creds_->id;
    req["pwd"] = creds_->pwd;
    session::answer_handler handler = [this](const json::object& f) { on_relogin_answer(f); };
    const auto r = co_await session_.request(std::move(req), std::move(handler), true);
    if (session_.generation() != gen) {
      co_return;
    }
    if (r.st == session::status::answered) {
      const int err = errno_of(r.frame);
      if (err == 0) {
        co_await wait_stored();
        session_.set_ready(true);
        co_return;
      }
      if (err == 2) {
        creds_.reset();
        state_.clear();
        identity_changed();
        session_.set_ready(true);
        co_return;
      }
    } else if (r.st != session::status::timeout) {
      co_return;  // lost or stopped: the session reconnects (or ends)
    } else {
      out_.status("* logging in again: no answer; retrying");
    }
    co_await session_.sleep(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(10s));
  }
}

}  // namespace chat::client
