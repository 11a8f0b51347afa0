# Finds micro-cpp's dependencies the way Debian bookworm ships them.
# Used by the build and, installed, by microConfig.cmake (so consumers get the same targets).
include(CMakeFindDependencyMacro)

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)
# Debian ships no protobuf-config.cmake: module mode (CMake's FindProtobuf).
find_dependency(Protobuf)
find_dependency(spdlog CONFIG)
find_dependency(ZLIB)
find_dependency(OpenSSL)
find_dependency(nlohmann_json 3.2 CONFIG)

# Standalone asio has neither a CMake config nor a .pc file: our own INTERFACE target.
if(NOT TARGET micro::asio)
  find_path(MICRO_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
  add_library(micro::asio INTERFACE IMPORTED)
  set_target_properties(micro::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${MICRO_ASIO_INCLUDE_DIR}"
    # ASIO_DISABLE_STD_ALIGNED_ALLOC: asio 1.22 decides between aligned_alloc/free and
    # operator new/delete from a libstdc++ macro that is only defined once some standard header
    # was included, so translation units that include asio first and those that do not
    # disagree (an ODR violation ASan reports as alloc-dealloc-mismatch). Pin one choice.
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED;ASIO_HAS_CO_AWAIT=1;ASIO_HAS_STD_COROUTINE=1;ASIO_DISABLE_STD_ALIGNED_ALLOC"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
