// The one instantiation of basic_pool for libmysqlclient connections.
#include "mysql_pool.hpp"

namespace chat::storage {
template class basic_pool<detail::mysql_connection>;
}
