# Helpers shared by every target: warnings and the library/test conventions.

add_library(chat_warnings INTERFACE)
target_compile_options(chat_warnings INTERFACE -Wall -Wextra -Wpedantic)
# g++ 12 at -O2 misreports Asio's coroutine frame allocator (operator new/delete of
# awaitable_frame_base) as mismatched: a known false positive, not a defect in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(chat_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
target_compile_definitions(chat_warnings INTERFACE BOOST_ASIO_NO_DEPRECATED)

# chat_library(NAME SOURCES... [DEPS ...]) -> target chatlib_NAME (so `chat_server` stays the
# app's name), use it as alias chat::NAME; public headers under libs/NAME/include/chat/NAME/.
function(chat_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(chatlib_${name} ${ARG_SOURCES})
  add_library(chat::${name} ALIAS chatlib_${name})
  set_target_properties(chatlib_${name} PROPERTIES OUTPUT_NAME chat_${name})
  target_include_directories(chatlib_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(chatlib_${name} PUBLIC ${ARG_DEPS} PRIVATE chat_warnings)
endfunction()

# chat_unit_test(NAME SOURCES... DEPS ...) -> one gtest executable, tests labelled "unit".
function(chat_unit_test name)
  if(NOT CHAT_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest_main chat_warnings)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 30)
endfunction()
