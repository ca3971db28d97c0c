// Storage error codes: the only failures the layers above need to tell apart.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace chat::storage {

enum class errc {
  unavailable = 1,  // database unreachable, timed out or pool exhausted: nothing was changed
  duplicate = 2,    // a unique key (user name, group name) is already taken
};

const boost::system::error_category& storage_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

}  // namespace chat::storage

template <>
struct boost::system::is_error_code_enum<chat::storage::errc> : std::true_type {};
