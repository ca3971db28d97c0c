// Environment lookups with build-time defaults (compile definitions from tests/CMakeLists.txt).
#include <chat_test/env.hpp>

#include <cstdlib>

#ifndef CHAT_TEST_BUILD_PORT_BASE
#define CHAT_TEST_BUILD_PORT_BASE 24000
#endif
#ifndef CHAT_TEST_BUILD_DATA
#define CHAT_TEST_BUILD_DATA "/tmp/chat-test-data"
#endif
#ifndef CHAT_TEST_BUILD_SERVER_BIN
#define CHAT_TEST_BUILD_SERVER_BIN "chat_server"
#endif
#ifndef CHAT_TEST_BUILD_SERVER_SCRIPT
#define CHAT_TEST_BUILD_SERVER_SCRIPT "tests/fixtures/chat_server.sh"
#endif
#ifndef CHAT_TEST_BUILD_MARIADB_SCRIPT
#define CHAT_TEST_BUILD_MARIADB_SCRIPT "deploy/local/mariadb.sh"
#endif

namespace chat_test {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    return fallback;
  }
  return std::atoi(v);
}

std::string env_string(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int port_base() {
  return env_int("CHAT_TEST_PORT_BASE", CHAT_TEST_BUILD_PORT_BASE);
}
int db_port() {
  return env_int("CHAT_TEST_DB_PORT", port_base());
}
int default_port() {
  return env_int("CHAT_TEST_PORT", port_base() + 1);
}
int tight_port() {
  return env_int("CHAT_TEST_TIGHT_PORT", port_base() + 2);
}

std::filesystem::path test_data_dir() {
  return env_string("CHAT_TEST_DATA", CHAT_TEST_BUILD_DATA);
}
std::string server_bin() {
  return env_string("CHAT_SERVER_BIN", CHAT_TEST_BUILD_SERVER_BIN);
}
std::string server_script() {
  return env_string("CHAT_SERVER_SCRIPT", CHAT_TEST_BUILD_SERVER_SCRIPT);
}
std::string mariadb_script() {
  return env_string("CHAT_MARIADB_SCRIPT", CHAT_TEST_BUILD_MARIADB_SCRIPT);
}

}  // namespace chat_test
