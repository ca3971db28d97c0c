// The error category of chat::broker::errc.
#include <chat/broker/error.hpp>

#include <string>

namespace chat::broker {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "chat.broker"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::unavailable:
        return "redis unavailable";
      case errc::timeout:
        return "redis did not answer in time";
      case errc::protocol_error:
        return "invalid RESP data from redis";
      case errc::server_error:
        return "redis replied with an error";
      case errc::invalid_command:
        return "command not allowed on a pipelined connection";
      case errc::auth_failed:
        return "redis refused authentication";
    }
    return "unknown broker error";
  }
};

}  // namespace

const boost::system::error_category& broker_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace chat::broker
