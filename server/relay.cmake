# relay.cmake — the relay's edge (codec, config, CLI, Asio listener) and the
# sotto-relay executable. Included from server/CMakeLists.txt after the
# sotto_relay_lib library (every server/*.cpp except main.cpp) is defined.
find_package(tomlplusplus 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)

# Standalone Asio (Debian's libasio-dev, header-only) with C++20 coroutines.
target_compile_definitions(sotto_relay_lib PUBLIC ASIO_NO_DEPRECATED ASIO_STANDALONE)
# Asio 1.22 enables co_await on clang only through the Coroutines TS macro
# (__cpp_coroutines), which clang 14 does not define in C++20 mode; its C++20
# coroutines with libstdc++'s <coroutine> work, so say so (fuzz/sanitizer builds use clang).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_definitions(sotto_relay_lib PUBLIC ASIO_HAS_CO_AWAIT=1)
endif()
target_link_libraries(sotto_relay_lib PUBLIC
  sotto_core tomlplusplus::tomlplusplus spdlog::spdlog CLI11::CLI11
  nlohmann_json::nlohmann_json Threads::Threads)

add_executable(sotto-relay ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
target_link_libraries(sotto-relay PRIVATE sotto_relay_lib)
sotto_warnings(sotto-relay)

# jemalloc for the relay process (docs/performance.md, "Fourth pass", 7): its
# event-loop thread allocates what the group-commit thread frees, and glibc's
# malloc then takes the allocating arena's lock for every such free. Not under
# the sanitizers, which bring their own allocator; -DSOTTO_JEMALLOC=OFF keeps
# glibc's malloc. Secrets never use either (SecretBytes: sodium_malloc).
if(SOTTO_JEMALLOC AND NOT SOTTO_SANITIZE AND NOT SOTTO_FUZZ)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(sotto-relay PRIVATE PkgConfig::JEMALLOC)
  target_compile_definitions(sotto-relay PRIVATE SOTTO_RELAY_ALLOCATOR="jemalloc ${JEMALLOC_VERSION}")
else()
  target_compile_definitions(sotto-relay PRIVATE SOTTO_RELAY_ALLOCATOR="glibc malloc")
endif()
