// Pairing of raw_forwarder connections.
#include "pair_registry.hpp"

namespace chat::bench {

std::string pair_registry::pair_of(std::string_view key) {
  return std::string(key.substr(0, key.rfind(':')));
}

std::shared_ptr<relay_session> pair_registry::join(const std::string& pair, const std::shared_ptr<relay_session>& s) {
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(pair);
  if (it != waiting_.end()) {
    auto partner = it->second.lock();
    waiting_.erase(it);
    if (partner) {
      return partner;
    }
  }
  waiting_.emplace(pair, s);
  return nullptr;
}

void pair_registry::leave(const std::string& pair, const relay_session* s) {
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(pair);
  if (it != waiting_.end()) {
    const auto waiting = it->second.lock();
    if (!waiting || waiting.get() == s) {
      waiting_.erase(it);
    }
  }
}

}  // namespace chat::bench
