# Warning flags for micro-cpp's own targets (never forced on consumers).
function(micro_target_warnings target)
  # Designated initialisers that leave fields at their defaults are idiomatic C++20:
  # -Wmissing-field-initializers would flag every one of them.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 -fsanitize=thread warns (-Wtsan) on asio's atomic_thread_fence: not our code.
    target_compile_options(${target} PRIVATE -Wno-tsan)
  endif()
  if(MICRO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# llhttp has no library package: compile the C sources shipped by node-llhttp.
find_path(LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp /usr/include REQUIRED)
find_path(LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp REQUIRED NO_DEFAULT_PATH)
if(NOT TARGET micro_llhttp)
  # An OBJECT library: its objects go into libmicro itself, so nothing extra is installed.
  add_library(micro_llhttp OBJECT
    ${LLHTTP_SOURCE_DIR}/llhttp.c ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c)
  target_include_directories(micro_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
endif()
