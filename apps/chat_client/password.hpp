// Where a password comes from without a prompt: --password-file or an environment variable.
// (The terminal UI prompts without echo when neither is given.)
#pragma once

#include <optional>
#include <string>

namespace chat::client {

struct password_source {
  std::optional<std::string> password;  // set when configured
  std::string error;                    // set when configured but unusable
};

// The first line of `file` (without its line ending) when `file` is not empty; otherwise the
// value of the environment variable `env_name` when set and not empty; otherwise nothing.
password_source configured_password(const std::string& file, const std::string& env_name);

}  // namespace chat::client
