// Registration, authentication and Argon2id hashing.
#include <chat/asio/offload.hpp>
#include <chat/protocol/message.hpp>
#include <chat/services/accounts.hpp>

#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <new>
#include <stdexcept>
#include <thread>

namespace chat::services {

using protocol::errc;

namespace {

std::size_t hash_threads(const config::security_section& cfg) {
  if (cfg.hash_threads != 0) {
    return cfg.hash_threads;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Blocking: call on the hashing pool (or once at start-up).
std::string argon2id_hash(std::string_view password, unsigned long long opslimit, std::size_t memlimit) {
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), opslimit, memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::bad_alloc();
  }
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

// Hashing yields the CPU to the io threads (nice +10 for this pool thread, once): a login storm
// then slows logins, not the chat traffic of everyone already logged in.
void yield_to_io_threads() {
  thread_local const bool lowered = [] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);  // best effort
    return true;
  }();
  (void)lowered;
}

}  // namespace

password_hasher::password_hasher(const config::security_section& cfg)
    : pool_(hash_threads(cfg)),
      opslimit_(cfg.argon2_opslimit),
      memlimit_bytes_(cfg.argon2_memlimit_kib * 1024) {
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium failed to initialise");
  }
  dummy_hash_ = argon2id_hash("not a password", opslimit_, memlimit_bytes_);
}

password_hasher::~password_hasher() { pool_.join(); }

awaitable<std::string> password_hasher::hash(std::string password) {
  // Named, not a temporary in the co_await expression: see offload().
  auto work = [this, pw = std::move(password)] {
    yield_to_io_threads();
    return argon2id_hash(pw, opslimit_, memlimit_bytes_);
  };
  co_return co_await offload(pool_.get_executor(), std::move(work));
}

awaitable<bool> password_hasher::verify(std::string hash, std::string password) {
  auto work = [h = std::move(hash), pw = std::move(password)] {
    yield_to_io_threads();
    return crypto_pwhash_str_verify(h.c_str(), pw.data(), pw.size()) == 0;
  };
  co_return co_await offload(pool_.get_executor(), std::move(work));
}

accounts::accounts(storage::repository& repo, password_hasher& hasher, const config::limits_section& limits)
    : repo_(repo),
      hasher_(hasher),
      account_failures_(limits.max_failed_logins, limits.failed_login_lockout, false),
      address_failures_(limits.max_failed_logins_per_address, limits.address_lockout, true) {}

awaitable<boost::system::result<storage::user_ref>> accounts::register_user(std::string name, std::string password) {
  std::string hash = co_await hasher_.hash(std::move(password));
  auto id = co_await repo_.create_user(name, std::move(hash));
  if (!id) {
    co_return id.error() == storage::errc::duplicate ? errc::reg_error : errc::unavailable;
  }
  co_return storage::user_ref{*id, std::move(name)};
}

awaitable<boost::system::result<storage::user_ref>> accounts::authenticate(std::optional<user_id> id,
                                                                           std::optional<std::string> name,
                                                                           std::string password, std::string address) {
  using clock = std::chrono::steady_clock;
  // A locked-out address costs neither a query nor a hash: that is what makes it a defence.
  if (!address.empty() && address_failures_.locked(address, clock::now())) {
    co_return errc::info_error;
  }
  boost::system::result<std::optional<storage::user_record>> found;
  if (id) {
    found = co_await repo_.find_user(*id);
  } else {
    found = co_await repo_.find_user_by_name(std::move(*name));
  }
  if (!found) {
    co_return errc::unavailable;
  }
  if (!found->has_value()) {
    // Spend the same effort as for a real account so timing does not reveal which names exist.
    co_await hasher_.verify(hasher_.dummy_hash(), std::move(password));
    if (!address.empty()) {
      address_failures_.failed(address, clock::now());
    }
    co_return errc::info_error;
  }
  storage::user_record& user = **found;
  if (account_failures_.locked(user.id, clock::now())) {
    co_return errc::info_error;
  }
  const bool ok = co_await hasher_.verify(std::move(user.password_hash), std::move(password));
  if (!ok) {
    account_failures_.failed(user.id, clock::now());
    if (!address.empty()) {
      address_failures_.failed(address, clock::now());
    }
    co_return errc::info_error;
  }
  account_failures_.forget(user.id);
  co_return storage::user_ref{user.id, std::move(user.name)};
}

}  // namespace chat::services
