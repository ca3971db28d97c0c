// Shorthands for Asio C++20 coroutines on Boost 1.81 (no default completion tokens there).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat {

namespace asio = boost::asio;

template <class T = void>
using awaitable = asio::awaitable<T>;

// Completion token for coroutines that branch on error_code instead of catching.
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace chat
