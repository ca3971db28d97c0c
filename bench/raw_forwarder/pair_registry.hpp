// Matches the two connections of a pair: their pairing keys agree up to the last ':'
// ("pair:17:a" and "pair:17:b").
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::bench {

class relay_session;

// Thread-safe.
class pair_registry {
 public:
  // The pair's name: the key up to its last ':' (the whole key when it has none).
  static std::string pair_of(std::string_view key);

  // The session already waiting under `pair` (now taken off the list), or null after putting
  // `s` on the list to wait for its partner.
  std::shared_ptr<relay_session> join(const std::string& pair, const std::shared_ptr<relay_session>& s);

  // Takes `s` off the list if it is still waiting there (it closed before its partner came).
  void leave(const std::string& pair, const relay_session* s);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<relay_session>> waiting_;
};

}  // namespace chat::bench
