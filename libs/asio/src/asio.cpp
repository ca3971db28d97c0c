// The one translation unit that holds Asio's compiled implementation.
#include <boost/asio/impl/src.hpp>
