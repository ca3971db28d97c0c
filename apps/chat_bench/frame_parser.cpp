// The reusable JSON parser.
#include "frame_parser.hpp"

namespace chat::bench {

const boost::json::object* frame_parser::parse(std::string_view body) {
  // The previous value lives in the arena: drop it before the arena is rewound. A new
  // resource rather than release(): Boost 1.81's release() keeps doubling the size of the
  // next block it takes from the heap, until an allocation fails.
  value_.reset();
  resource_.emplace(arena_, sizeof arena_);
  parser_.reset(boost::json::storage_ptr(&*resource_));
  boost::system::error_code ec;
  parser_.write(body.data(), body.size(), ec);
  if (ec) {
    return nullptr;
  }
  value_.emplace(parser_.release());
  return value_->if_object();
}

}  // namespace chat::bench
