# Warning flags for micro-cpp's own targets (never forced on consumers).
function(micro_target_warnings target)
  # Designated initialisers that leave fields at their defaults are idiomatic C++20:
  # -Wmissing-field-initializers would flag every one of them.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Known g++ 12 false positives on asio's coroutine frames, set per target (not per source
    # file: a file with its own options would drop out of its unity batch):
    # -Wmismatched-new-delete: asio pairs its own operator new/delete for coroutine frames
    #   (a real mismatch is still caught at run time by ASan's alloc-dealloc-mismatch);
    # -Wtsan: under -fsanitize=thread g++ 12 rejects asio's atomic_thread_fence;
    # -Wsubobject-linkage: in a unity source an included .cc counts as a header, so a
    #   coroutine frame naming a type from an anonymous namespace is reported.
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete -Wno-tsan
      -Wno-subobject-linkage)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_FLAGS MATCHES "sanitize=[^ ]*undefined")
    # clang 14 with UBSan cannot compile coroutines ("Cannot represent a difference across
    # sections", llvm-project#49689): only UBSan's `function` check is left out.
    target_compile_options(${target} PRIVATE -fno-sanitize=function)
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
