// Where the client's output goes: human lines to stdout (to stderr in --json mode, where
// stdout carries one JSON line per received frame). A terminal UI hooks in to print above
// its prompt. Single-threaded (the io_context's thread).
#pragma once

#include <cstdio>
#include <functional>
#include <string_view>

namespace chat::client {

class console {
 public:
  // Writes `text` (ending without a newline) to `stream`; installed by the terminal UI.
  using writer = std::function<void(std::FILE* stream, std::string_view text)>;

  explicit console(bool json_mode) noexcept : json_mode_(json_mode) {}

  bool json_mode() const noexcept { return json_mode_; }

  // One human-readable line (it may hold newlines); flushed at once.
  void line(std::string_view text);
  // A status line about the connection ("* connected to ..."): same stream as line().
  void status(std::string_view text) { line(text); }
  // One received frame as JSON text (--json mode only; ignored otherwise).
  void frame(std::string_view json_text);

  void set_writer(writer w) { writer_ = std::move(w); }

 private:
  void write(std::FILE* stream, std::string_view text);

  bool json_mode_;
  writer writer_;
};

// Writes text and a newline to a stream and flushes (no hook): for output before or after the
// UI runs.
void write_line(std::FILE* stream, std::string_view text);

}  // namespace chat::client
