// Runs blocking work (Argon2id, libmysqlclient) on a dedicated pool and resumes the awaiting
// coroutine on its own executor, so io threads never block.
#pragma once

#include <chat/asio/awaitable.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace chat {

namespace detail {

template <class Executor>
struct offload_initiation {
  Executor pool;

  template <class Handler, class Work>
  void operator()(Handler handler, Work work) const {
    using R = std::invoke_result_t<Work&>;
    auto home = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(pool, [h = std::move(handler), w = std::move(work), home = std::move(home)]() mutable {
      std::exception_ptr ep;
      if constexpr (std::is_void_v<R>) {
        try {
          w();
        } catch (...) {
          ep = std::current_exception();
        }
        asio::dispatch(home.get_executor(), [h = std::move(h), ep]() mutable { std::move(h)(ep); });
      } else {
        R r{};
        try {
          r = w();
        } catch (...) {
          ep = std::current_exception();
        }
        asio::dispatch(home.get_executor(),
                       [h = std::move(h), ep, r = std::move(r)]() mutable { std::move(h)(ep, std::move(r)); });
      }
    });
  }
};

template <class R>
struct offload_signature {
  using type = void(std::exception_ptr, R);
};
template <>
struct offload_signature<void> {
  using type = void(std::exception_ptr);
};

}  // namespace detail

//   auto work = [..] { return blocking_call(); };
//   co_await offload(pool.get_executor(), std::move(work));
// `work` runs on `pool_ex`; an exception it throws is rethrown in the awaiting coroutine.
// Not cancellable: the work always runs to completion (bound it with its own timeouts).
//
// g++ 12 pitfall: inside a coroutine, a lambda or aggregate temporary written directly in a
// co_await expression can be copied bit for bit (its SSO strings then point into a freed
// frame). Name such arguments first and std::move them, as above.
template <class Executor, class Work>
auto offload(Executor pool_ex, Work work) -> awaitable<std::invoke_result_t<Work&>> {
  using signature = typename detail::offload_signature<std::invoke_result_t<Work&>>::type;
  return asio::async_initiate<decltype(asio::use_awaitable), signature>(
      detail::offload_initiation<Executor>{pool_ex}, asio::use_awaitable, std::move(work));
}

}  // namespace chat
