// The one translation unit that holds Asio's compiled SSL implementation (the rest of Asio is
// in libs/asio; only the client speaks TLS).
#include <boost/asio/ssl/impl/src.hpp>
