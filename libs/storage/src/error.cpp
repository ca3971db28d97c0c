// The error category of chat::storage::errc.
#include <chat/storage/error.hpp>

#include <string>

namespace chat::storage {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "chat.storage"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::unavailable:
        return "database unavailable";
      case errc::duplicate:
        return "name already taken";
    }
    return "unknown storage error";
  }
};

}  // namespace

const boost::system::error_category& storage_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace chat::storage
