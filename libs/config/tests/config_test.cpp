// Unit tests for the TOML loader: defaults, a full file, each kind of error, and the shipped example file.
#include <chat/config/config.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <tuple>

namespace cfg = chat::config;
using std::chrono::milliseconds;

namespace {

// The structs have no operator==; comparing their fields as tuples keeps the header untouched
// and makes a failure name the section that differs.
auto fields(const cfg::server_section& s) {
  return std::tie(s.listen_address, s.port, s.node_id, s.threads, s.shutdown_grace, s.proxy_protocol, s.drain_period);
}
auto fields(const cfg::mysql_section& s) {
  return std::tie(s.host, s.port, s.unix_socket, s.user, s.password, s.database, s.pool_size, s.connect_timeout,
                  s.query_timeout, s.ping_interval, s.apply_schema);
}
auto fields(const cfg::redis_section& s) {
  return std::tie(s.enabled, s.host, s.port, s.password, s.connect_timeout, s.command_timeout);
}
auto fields(const cfg::limits_section& s) {
  return std::tie(s.max_frame_bytes, s.max_message_bytes, s.max_outbound_bytes, s.login_timeout,
                  s.max_failed_logins, s.failed_login_lockout);
}
auto fields(const cfg::heartbeat_section& s) { return std::tie(s.idle_timeout); }
auto fields(const cfg::log_section& s) { return std::tie(s.level, s.format, s.file); }
auto fields(const cfg::admin_section& s) { return std::tie(s.enabled, s.listen_address, s.port); }
auto fields(const cfg::security_section& s) {
  return std::tie(s.hash_threads, s.argon2_opslimit, s.argon2_memlimit_kib);
}

void expect_same(const cfg::server_config& a, const cfg::server_config& b) {
  EXPECT_TRUE(fields(a.server) == fields(b.server)) << "[server] differs";
  EXPECT_TRUE(fields(a.mysql) == fields(b.mysql)) << "[mysql] differs";
  EXPECT_TRUE(fields(a.redis) == fields(b.redis)) << "[redis] differs";
  EXPECT_TRUE(fields(a.limits) == fields(b.limits)) << "[limits] differs";
  EXPECT_TRUE(fields(a.heartbeat) == fields(b.heartbeat)) << "[heartbeat] differs";
  EXPECT_TRUE(fields(a.log) == fields(b.log)) << "[log] differs";
  EXPECT_TRUE(fields(a.security) == fields(b.security)) << "[security] differs";
  EXPECT_TRUE(fields(a.admin) == fields(b.admin)) << "[admin] differs";
}

// Parses text that must be rejected and returns the error message.
std::string error_of(std::string_view text) {
  try {
    cfg::parse(text, "chat.toml");
  } catch (const cfg::config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no config_error for:\n" << text;
  return {};
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST(config, empty_text_gives_defaults) {
  expect_same(cfg::parse(""), cfg::server_config{});
  expect_same(cfg::parse("# only a comment\n"), cfg::server_config{});
}

TEST(config, empty_sections_give_defaults) {
  expect_same(cfg::parse("[server]\n[mysql]\n[limits]\n[heartbeat]\n[log]\n[security]\n"), cfg::server_config{});
}

TEST(config, full_file_sets_every_field) {
  const auto c = cfg::parse(R"(
[server]
listen_address = "0.0.0.0"
port = 7000
node_id = "eu-1.a_b"
threads = 4
shutdown_grace_ms = 1500
proxy_protocol = true

[mysql]
host = "db.example"
port = 3307
unix_socket = "/run/mysqld/mysqld.sock"
user = "chatd"
password = "s3cret"
database = "chatdb"
pool_size = 16
connect_timeout_ms = 1000
query_timeout_ms = 3000
ping_interval_ms = 10000
apply_schema = false

[limits]
max_frame_bytes = 131072
max_message_bytes = 4096
max_outbound_bytes = 1048576
login_timeout_ms = 30000
max_failed_logins = 0
failed_login_lockout_ms = 120000
rate_limit_per_s = 50
rate_limit_burst = 100
max_connections = 50000
max_connections_per_address = 64
max_failed_logins_per_address = 30
address_lockout_ms = 90000

[heartbeat]
idle_timeout_ms = 45000

[log]
level = "debug"

[security]
hash_threads = 2
argon2_opslimit = 3
argon2_memlimit_kib = 65536
)");
  EXPECT_EQ(c.server.listen_address, "0.0.0.0");
  EXPECT_EQ(c.server.port, 7000);
  EXPECT_EQ(c.server.node_id, "eu-1.a_b");
  EXPECT_EQ(c.server.threads, 4u);
  EXPECT_EQ(c.server.shutdown_grace, milliseconds{1500});
  EXPECT_TRUE(c.server.proxy_protocol);

  EXPECT_EQ(c.mysql.host, "db.example");
  EXPECT_EQ(c.mysql.port, 3307);
  EXPECT_EQ(c.mysql.unix_socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(c.mysql.user, "chatd");
  EXPECT_EQ(c.mysql.password, "s3cret");
  EXPECT_EQ(c.mysql.database, "chatdb");
  EXPECT_EQ(c.mysql.pool_size, 16u);
  EXPECT_EQ(c.mysql.connect_timeout, milliseconds{1000});
  EXPECT_EQ(c.mysql.query_timeout, milliseconds{3000});
  EXPECT_EQ(c.mysql.ping_interval, milliseconds{10000});
  EXPECT_FALSE(c.mysql.apply_schema);

  EXPECT_EQ(c.limits.max_frame_bytes, 131072u);
  EXPECT_EQ(c.limits.max_message_bytes, 4096u);
  EXPECT_EQ(c.limits.max_outbound_bytes, 1048576u);
  EXPECT_EQ(c.limits.login_timeout, milliseconds{30000});
  EXPECT_EQ(c.limits.max_failed_logins, 0u);
  EXPECT_EQ(c.limits.failed_login_lockout, milliseconds{120000});
  EXPECT_EQ(c.limits.rate_limit_per_s, 50u);
  EXPECT_EQ(c.limits.rate_limit_burst, 100u);
  EXPECT_EQ(c.limits.max_connections, 50000u);
  EXPECT_EQ(c.limits.max_connections_per_address, 64u);
  EXPECT_EQ(c.limits.max_failed_logins_per_address, 30u);
  EXPECT_EQ(c.limits.address_lockout, milliseconds{90000});

  EXPECT_EQ(c.heartbeat.idle_timeout, milliseconds{45000});
  EXPECT_EQ(c.log.level, "debug");

  EXPECT_EQ(c.security.hash_threads, 2u);
  EXPECT_EQ(c.security.argon2_opslimit, 3u);
  EXPECT_EQ(c.security.argon2_memlimit_kib, 65536u);
}

TEST(config, missing_keys_keep_defaults) {
  const auto c = cfg::parse("[mysql]\nport = 3307\n");
  EXPECT_EQ(c.mysql.port, 3307);
  EXPECT_EQ(c.mysql.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 6000);
}

TEST(config, range_bounds_are_inclusive) {
  const auto c = cfg::parse(R"(
[server]
port = 65535
threads = 256
[limits]
max_frame_bytes = 16
max_message_bytes = 16
max_outbound_bytes = 1024
login_timeout_ms = 100
[heartbeat]
idle_timeout_ms = 86400000
[security]
argon2_opslimit = 1
argon2_memlimit_kib = 8
)");
  EXPECT_EQ(c.server.port, 65535);
  EXPECT_EQ(c.limits.max_frame_bytes, 16u);
  EXPECT_EQ(c.limits.max_message_bytes, 16u);
  EXPECT_EQ(c.security.argon2_opslimit, 1u);
}

TEST(config, unknown_section_is_named) {
  const auto what = error_of("[server]\nport = 6000\n[mysqll]\nhost = \"x\"\n");
  EXPECT_TRUE(contains(what, "chat.toml")) << what;
  EXPECT_TRUE(contains(what, "unknown section [mysqll]")) << what;
}

TEST(config, unknown_top_level_key_is_named) {
  EXPECT_EQ(error_of("port = 6000\n"), "chat.toml: unknown key port outside any [section]");
}

TEST(config, unknown_key_is_named) {
  EXPECT_EQ(error_of("[mysql]\npasswrod = \"x\"\n"), "chat.toml: unknown key [mysql] passwrod");
  // A nested table is just another key that no section knows.
  EXPECT_TRUE(contains(error_of("[server.tls]\ncert = \"x\"\n"), "unknown key [server] tls"));
}

TEST(config, section_must_be_a_table) {
  const auto what = error_of("server = 5\n");
  EXPECT_TRUE(contains(what, "[server]")) << what;
  EXPECT_TRUE(contains(what, "expected a table")) << what;
}

TEST(config, wrong_type_names_key_and_expected_type) {
  auto what = error_of("[mysql]\nport = \"3306\"\n");
  EXPECT_TRUE(contains(what, "[mysql] port")) << what;
  EXPECT_TRUE(contains(what, "expected an integer")) << what;

  what = error_of("[server]\nport = 6000.0\n");  // a float is not an integer, even when whole
  EXPECT_TRUE(contains(what, "[server] port")) << what;
  EXPECT_TRUE(contains(what, "expected an integer, got a floating-point number")) << what;

  what = error_of("[mysql]\napply_schema = \"yes\"\n");
  EXPECT_TRUE(contains(what, "[mysql] apply_schema: expected a boolean")) << what;

  what = error_of("[mysql]\nhost = 127\n");
  EXPECT_TRUE(contains(what, "[mysql] host: expected a string, got an integer")) << what;

  what = error_of("[heartbeat]\nidle_timeout_ms = \"60s\"\n");
  EXPECT_TRUE(contains(what, "[heartbeat] idle_timeout_ms: expected an integer")) << what;
}

TEST(config, out_of_range_names_key_and_range) {
  struct bad_value {
    std::string_view text;
    std::string_view expected;
  };
  const bad_value cases[] = {
      {"[server]\nport = 0\n", "[server] port: must be between 1 and 65535"},
      {"[server]\nport = 65536\n", "[server] port: must be between 1 and 65535"},
      {"[server]\nthreads = 257\n", "[server] threads: must be between 0 and 256"},
      {"[server]\nthreads = -1\n", "[server] threads: must be between 0 and 256"},
      {"[server]\nshutdown_grace_ms = 0\n", "[server] shutdown_grace_ms: must be between 1"},
      {"[mysql]\npool_size = 0\n", "[mysql] pool_size: must be between 1 and 1024"},
      {"[mysql]\npool_size = 1025\n", "[mysql] pool_size: must be between 1 and 1024"},
      {"[mysql]\nconnect_timeout_ms = 0\n", "[mysql] connect_timeout_ms: must be between 1"},
      {"[mysql]\nquery_timeout_ms = -5\n", "[mysql] query_timeout_ms: must be between 1"},
      {"[mysql]\nping_interval_ms = 0\n", "[mysql] ping_interval_ms: must be between 1"},
      {"[limits]\nmax_frame_bytes = 15\n", "[limits] max_frame_bytes: must be between 16 and 16777216"},
      {"[limits]\nmax_frame_bytes = 16777217\n", "[limits] max_frame_bytes: must be between 16 and 16777216"},
      {"[limits]\nmax_message_bytes = 0\n", "[limits] max_message_bytes: must be between 1 and 1048576"},
      {"[limits]\nmax_frame_bytes = 4194304\nmax_message_bytes = 1048577\n",
       "[limits] max_message_bytes: must be between 1 and 1048576"},
      {"[limits]\nmax_message_bytes = 65537\n", "[limits] max_message_bytes: must not exceed max_frame_bytes (65536)"},
      // The check holds whatever order the two keys come in.
      {"[limits]\nmax_message_bytes = 100\nmax_frame_bytes = 64\n",
       "[limits] max_message_bytes: must not exceed max_frame_bytes (64)"},
      {"[limits]\nmax_outbound_bytes = 1023\n", "[limits] max_outbound_bytes: must be at least 1024"},
      {"[limits]\nlogin_timeout_ms = 99\n", "[limits] login_timeout_ms: must be between 100 and 86400000"},
      {"[limits]\nlogin_timeout_ms = 86400001\n", "[limits] login_timeout_ms: must be between 100 and 86400000"},
      {"[limits]\nmax_failed_logins = -1\n", "[limits] max_failed_logins: must be between 0 and 4294967295"},
      {"[limits]\nfailed_login_lockout_ms = 0\n", "[limits] failed_login_lockout_ms: must be between 1"},
      {"[heartbeat]\nidle_timeout_ms = 99\n", "[heartbeat] idle_timeout_ms: must be between 100 and 86400000"},
      {"[security]\nhash_threads = 257\n", "[security] hash_threads: must be between 0 and 256"},
      {"[security]\nargon2_opslimit = 0\n", "[security] argon2_opslimit: must be between 1 and 100"},
      {"[security]\nargon2_opslimit = 101\n", "[security] argon2_opslimit: must be between 1 and 100"},
      {"[security]\nargon2_memlimit_kib = 7\n", "[security] argon2_memlimit_kib: must be between 8 and 4194304"},
      {"[security]\nargon2_memlimit_kib = 4194305\n",
       "[security] argon2_memlimit_kib: must be between 8 and 4194304"},
  };
  for (const auto& c : cases) {
    const auto what = error_of(c.text);
    EXPECT_TRUE(contains(what, c.expected)) << "input:\n" << c.text << "message: " << what;
  }
}

TEST(config, bad_log_level_is_named) {
  const auto what = error_of("[log]\nlevel = \"verbose\"\n");
  EXPECT_TRUE(contains(what, "[log] level")) << what;
  EXPECT_TRUE(contains(what, "trace, debug, info, warn, error, critical, off")) << what;
  EXPECT_TRUE(contains(error_of("[log]\nlevel = \"INFO\"\n"), "[log] level"));  // names are lower case
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(cfg::parse(std::string("[log]\nlevel = \"") + level + "\"\n").log.level, level);
  }
}

TEST(config, bad_node_id_is_named) {
  for (const char* text : {"[server]\nnode_id = \"\"\n", "[server]\nnode_id = \"node 1\"\n",
                           "[server]\nnode_id = \"a/b\"\n", "[server]\nnode_id = \"n\\u00e9\"\n"}) {
    const auto what = error_of(text);
    EXPECT_TRUE(contains(what, "[server] node_id")) << what;
  }
  const std::string longest(64, 'n');
  EXPECT_EQ(cfg::parse("[server]\nnode_id = \"" + longest + "\"\n").server.node_id, longest);
  EXPECT_TRUE(contains(error_of("[server]\nnode_id = \"" + longest + "n\"\n"), "[server] node_id"));
}

TEST(config, empty_required_strings_are_named) {
  EXPECT_TRUE(contains(error_of("[server]\nlisten_address = \"\"\n"), "[server] listen_address: must not be empty"));
  EXPECT_TRUE(contains(error_of("[mysql]\nuser = \"\"\n"), "[mysql] user: must not be empty"));
  EXPECT_TRUE(contains(error_of("[mysql]\ndatabase = \"\"\n"), "[mysql] database: must not be empty"));
}

TEST(config, syntax_error_names_source_line_and_column) {
  const auto what = error_of("[server]\nport = 6000\nnode_id = \n");
  EXPECT_TRUE(contains(what, "chat.toml:3:")) << what;

  // Keys may not be repeated; the second one is the error.
  const auto dup = error_of("[mysql]\nport = 1\nport = 2\n");
  EXPECT_TRUE(contains(dup, "chat.toml:3:")) << dup;
  EXPECT_TRUE(contains(dup, "port")) << dup;
}

TEST(config, integer_beyond_64_bits_is_a_syntax_error) {
  const auto what = error_of("[limits]\nmax_outbound_bytes = 99999999999999999999\n");
  EXPECT_TRUE(contains(what, "chat.toml:2:")) << what;
}

TEST(config, missing_file_is_named) {
  try {
    cfg::load_file("/nonexistent/chat_server.toml");
    FAIL() << "no config_error";
  } catch (const cfg::config_error& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent/chat_server.toml")) << e.what();
    EXPECT_TRUE(contains(e.what(), "cannot open")) << e.what();
  }
}

TEST(config, directory_is_rejected) {
  EXPECT_THROW(cfg::load_file("/"), cfg::config_error);
}

TEST(config, file_errors_carry_its_path) {
  const std::string path = ::testing::TempDir() + "config_test_bad_port.toml";
  std::ofstream(path) << "[server]\nport = 0\n";
  try {
    cfg::load_file(path);
    ADD_FAILURE() << "no config_error";
  } catch (const cfg::config_error& e) {
    EXPECT_EQ(e.what(), path + ": [server] port: must be between 1 and 65535");
  }
  std::remove(path.c_str());
}

// The shipped example documents the defaults, so it must load to exactly the struct's defaults.
TEST(config, example_file_equals_defaults) {
  expect_same(cfg::load_file(CHAT_EXAMPLE_CONFIG), cfg::server_config{});
}

// The two-node example runs behind nginx's PROXY header with the suggested abuse limits.
TEST(config, cluster_examples_load_with_proxy_protocol_and_limits) {
  for (const char* node : {"node1", "node2"}) {
    const auto c = cfg::load_file(std::string(CHAT_DEPLOY_CONFIG_DIR) + "/" + node + ".toml");
    EXPECT_EQ(c.server.node_id, node);
    EXPECT_TRUE(c.server.proxy_protocol) << node;
    EXPECT_TRUE(c.redis.enabled) << node;
    EXPECT_EQ(c.limits.rate_limit_per_s, 50u) << node;
    EXPECT_EQ(c.limits.max_connections_per_address, 64u) << node;
    EXPECT_EQ(c.limits.max_failed_logins_per_address, 30u) << node;
    EXPECT_TRUE(c.admin.enabled) << node;
    EXPECT_EQ(c.admin.listen_address, "127.0.0.1") << node;
  }
}

// Parsing cannot tell a documented default from a missing key, so check the text names every key.
TEST(config, example_file_documents_every_key) {
  std::ifstream in(CHAT_EXAMPLE_CONFIG);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  for (const char* line :
       {"[server]", "\nlisten_address = ", "\nport = ", "\nnode_id = ", "\nthreads = ", "\nshutdown_grace_ms = ", "\ndrain_period_ms = ",
        "[mysql]", "\nhost = ", "\nunix_socket = ", "\nuser = ", "\npassword = ", "\ndatabase = ",
        "\npool_size = ", "\nconnect_timeout_ms = ", "\nquery_timeout_ms = ", "\nping_interval_ms = ",
        "\napply_schema = ", "[limits]", "\nmax_frame_bytes = ", "\nmax_message_bytes = ",
        "\nmax_outbound_bytes = ", "\nlogin_timeout_ms = ", "\nmax_failed_logins = ",
        "\nfailed_login_lockout_ms = ", "[heartbeat]", "\nidle_timeout_ms = ", "[log]", "\nlevel = ", "\nformat = ", "\nfile = ",
        "[security]", "\nhash_threads = ", "\nargon2_opslimit = ", "\nargon2_memlimit_kib = ", "# [redis]",
        "\n# host = ", "\n# port = ", "\n# password = ", "\n# connect_timeout_ms = ", "\n# command_timeout_ms = ", "# [admin]",
        "\n# listen_address = ", "\n# port = 9610"}) {
    EXPECT_TRUE(contains(text, line)) << "missing: " << line;
  }
}

TEST(config, redis_section_turns_the_cluster_on) {
  EXPECT_FALSE(cfg::parse("").redis.enabled);
  const auto c = cfg::parse("[redis]\n");
  EXPECT_TRUE(c.redis.enabled);
  EXPECT_EQ(c.redis.host, "127.0.0.1");
  EXPECT_EQ(c.redis.port, 6379);
  const auto d = cfg::parse("[redis]\nhost = \"10.0.0.5\"\nport = 7000\npassword = \"pw\"\n"
                            "connect_timeout_ms = 250\ncommand_timeout_ms = 300\n");
  EXPECT_TRUE(d.redis.enabled);
  EXPECT_EQ(d.redis.host, "10.0.0.5");
  EXPECT_EQ(d.redis.port, 7000);
  EXPECT_EQ(d.redis.password, "pw");
  EXPECT_EQ(d.redis.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(d.redis.command_timeout, std::chrono::milliseconds(300));
}

TEST(config, redis_errors_are_named) {
  EXPECT_TRUE(contains(error_of("[redis]\nport = 0\n"), "[redis] port"));
  EXPECT_TRUE(contains(error_of("[redis]\nhots = \"x\"\n"), "[redis] hots"));
  EXPECT_TRUE(contains(error_of("[redis]\nhost = \"\"\n"), "[redis] host"));
}

TEST(config, admin_section_turns_the_listener_on) {
  EXPECT_FALSE(cfg::parse("").admin.enabled);
  const auto c = cfg::parse("[admin]\n");
  EXPECT_TRUE(c.admin.enabled);
  EXPECT_EQ(c.admin.listen_address, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 9610);
  const auto d = cfg::parse("[admin]\nlisten_address = \"10.0.0.7\"\nport = 0\n");
  EXPECT_EQ(d.admin.listen_address, "10.0.0.7");
  EXPECT_EQ(d.admin.port, 0);
  EXPECT_TRUE(contains(error_of("[admin]\nport = 65536\n"), "[admin] port: must be between 0 and 65535"));
  EXPECT_TRUE(contains(error_of("[admin]\nlisten_address = \"\"\n"), "[admin] listen_address"));
}

TEST(config, log_format_file_and_drain_period) {
  const auto c = cfg::parse("[log]\nformat = \"json\"\nfile = \"/var/log/chatd/n1.log\"\n[server]\ndrain_period_ms = 0\n");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.log.file, "/var/log/chatd/n1.log");
  EXPECT_EQ(c.server.drain_period, std::chrono::milliseconds(0));
  EXPECT_EQ(cfg::parse("").server.drain_period, std::chrono::milliseconds(10000));
  EXPECT_TRUE(contains(error_of("[log]\nformat = \"xml\"\n"), "[log] format: must be text or json"));
}
