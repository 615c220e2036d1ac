# store.cmake — sotto_client_store: the client's encrypted profile store
# (client/profile_store*, store_*) and the layouts of the values the client
# keeps in it (device_keys, outbox), so that the record fuzzer
# (tests/fuzz/fuzz_client_record.cpp) needs no Asio. Included from client/CMakeLists.txt.
# SQLite is linked publicly: the tests open the profile file directly to tamper with it.
find_package(SQLite3 REQUIRED)

add_library(sotto_client_store STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/device_keys.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/outbox.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/profile_store.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/profile_store_contacts.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/profile_store_tables.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store_crypto.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store_error.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store_records.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store_schema.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/store_sqlite.cpp)
target_include_directories(sotto_client_store PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(sotto_client_store PUBLIC sotto_core SQLite::SQLite3)
sotto_warnings(sotto_client_store)
