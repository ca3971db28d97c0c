// Passwords are stored as Argon2id hashes with the configured cost, salted, and verify.
#include <chat/services/accounts.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <string>

namespace {

namespace asio = boost::asio;

template <class T>
T run(asio::io_context& ioc, chat::awaitable<T> op) {
  auto result = asio::co_spawn(ioc, std::move(op), asio::use_future);
  ioc.run();
  ioc.restart();
  return result.get();
}

TEST(password_hasher, stores_argon2id_with_the_configured_cost_and_a_salt) {
  chat::config::security_section cfg;
  cfg.hash_threads = 1;
  cfg.argon2_opslimit = 2;
  cfg.argon2_memlimit_kib = 19456;
  chat::services::password_hasher hasher(cfg);
  asio::io_context ioc;

  const std::string first = run(ioc, hasher.hash("correct horse"));
  const std::string second = run(ioc, hasher.hash("correct horse"));
  EXPECT_EQ(first.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << first;
  EXPECT_EQ(first.find("correct horse"), std::string::npos);
  EXPECT_NE(first, second);  // a fresh salt per hash

  EXPECT_TRUE(run(ioc, hasher.verify(first, "correct horse")));
  EXPECT_TRUE(run(ioc, hasher.verify(second, "correct horse")));
  EXPECT_FALSE(run(ioc, hasher.verify(first, "correct horsf")));
  EXPECT_FALSE(run(ioc, hasher.verify("not a hash", "correct horse")));
  // The dummy hash (for unknown accounts) is a real Argon2id hash that nothing matches.
  EXPECT_EQ(hasher.dummy_hash().rfind("$argon2id$", 0), 0u);
  EXPECT_FALSE(run(ioc, hasher.verify(hasher.dummy_hash(), "")));
}

}  // namespace
