// Boost.JSON compiled from source for the fuzz build (see CMakeLists.txt): with the sanitizers
// and coverage instrumentation, so that the fuzzer sees inside the JSON parser too.
#include <boost/json/src.hpp>
