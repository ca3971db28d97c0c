// The requests the bench sends (PROTOCOL.md §6) and the time stamp every chat message
// carries. Chat requests are appended to a reused buffer: no allocation per message.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::bench {

using clock = std::chrono::steady_clock;

// clock is CLOCK_MONOTONIC on Linux: sender and receiver on one machine share it.
std::int64_t to_ns(clock::time_point t) noexcept;
clock::time_point from_ns(std::int64_t ns) noexcept;

// {"msgid":5,"to":TO,"msg":"<ns>:xxx..."} with `msg` padded to `payload` bytes.
void append_one_chat(std::string& out, std::int64_t to, clock::time_point stamp, std::size_t payload);

// {"msgid":12,"groupid":G,"msg":"<ns>:xxx...","cid":CID}
void append_group_chat(std::string& out, std::int64_t group, clock::time_point stamp, std::size_t payload,
                       std::int64_t cid);

// {"msgid":15,"cid":<ns>}: the PONG echoes the cid, which gives the round trip.
void append_ping(std::string& out, clock::time_point stamp);

// The send time at the start of a `msg`; nullopt when there is none.
std::optional<clock::time_point> parse_stamp(std::string_view msg) noexcept;

std::string reg_request(std::string_view name, std::string_view password);
std::string login_request(std::int64_t user, std::string_view password);
std::string loginout_request();
std::string create_group_request(std::string_view name);
std::string add_group_request(std::int64_t group);

}  // namespace chat::bench
