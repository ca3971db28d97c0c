// Output streams of the client.
#include "console.hpp"

namespace chat::client {

void write_line(std::FILE* stream, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
}

void console::write(std::FILE* stream, std::string_view text) {
  if (writer_) {
    writer_(stream, text);
  } else {
    write_line(stream, text);
  }
}

void console::line(std::string_view text) {
  write(json_mode_ ? stderr : stdout, text);
}

void console::frame(std::string_view json_text) {
  if (json_mode_) {
    write(stdout, json_text);
  }
}

}  // namespace chat::client
