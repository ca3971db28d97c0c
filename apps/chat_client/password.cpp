// Password from a file or the environment.
#include "password.hpp"

#include <cstdlib>
#include <fstream>

namespace chat::client {

password_source configured_password(const std::string& file, const std::string& env_name) {
  password_source src;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line)) {
      src.error = "cannot read a password from " + file;
      return src;
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      src.error = "the first line of " + file + " is empty (it must hold the password)";
      return src;
    }
    src.password = std::move(line);
    return src;
  }
  if (!env_name.empty()) {
    if (const char* v = std::getenv(env_name.c_str()); v != nullptr && *v != '\0') {
      src.password = std::string(v);
    }
  }
  return src;
}

}  // namespace chat::client
