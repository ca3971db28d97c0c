// The pool of libmysqlclient connections: basic_pool over mysql_connection, compiled once.
#pragma once

#include "mysql_connection.hpp"

#include <chat/storage/basic_pool.hpp>

namespace chat::storage::detail {

using mysql_pool = basic_pool<mysql_connection>;

}  // namespace chat::storage::detail

namespace chat::storage {
extern template class basic_pool<detail::mysql_connection>;
}
