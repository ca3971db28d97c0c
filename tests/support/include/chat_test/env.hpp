// Where the integration tests find their servers, scripts and data directory: environment
// variables set by ctest, with build-time defaults so a test binary also runs by hand.
#pragma once

#include <filesystem>
#include <string>

namespace chat_test {

int env_int(const char* name, int fallback);
std::string env_string(const char* name, const std::string& fallback);

int port_base();     // CHAT_TEST_PORT_BASE: first port of this build's range (100 ports)
int db_port();       // CHAT_TEST_DB_PORT: the shared MariaDB fixture
int default_port();  // CHAT_TEST_PORT: chat_server with default settings
int tight_port();    // CHAT_TEST_TIGHT_PORT: chat_server with short timeouts and small limits

// Settings of the "tight" server (tests/fixtures/tight.toml); must match that file.
inline constexpr int tight_idle_timeout_ms = 1500;
inline constexpr int tight_login_timeout_ms = 3000;
inline constexpr int tight_max_outbound_bytes = 262144;

std::filesystem::path test_data_dir();  // CHAT_TEST_DATA: scratch space under the build tree
std::string server_bin();               // CHAT_SERVER_BIN
std::string server_script();            // CHAT_SERVER_SCRIPT: tests/fixtures/chat_server.sh
std::string mariadb_script();           // CHAT_MARIADB_SCRIPT: deploy/local/mariadb.sh

}  // namespace chat_test
