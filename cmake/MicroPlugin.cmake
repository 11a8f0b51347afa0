# micro_add_plugin: builds a plugin library that registers its names when it is linked.
#
#   micro_add_plugin(NAME file SOURCES src/file_registry.cc src/register.cc)
#   target_link_libraries(my_app PRIVATE micro::file)   # `--registry=file` now works
#
# NAME     the plugin's anchor name: the argument of MICRO_PLUGIN(<name>) in one of the sources
#          (<micro/plugin/register.h>); a C identifier.
# TARGET   the library target (default micro_<NAME>); an alias micro::<NAME> is added when that
#          name is free.
# STATIC / SHARED  the library type (default: BUILD_SHARED_LIBS). A shared plugin built against
#          the static core carries its own copy of the core code it uses; the program's copy of
#          the name tables wins (ELF symbol interposition), so registration still reaches the
#          program's tables. tests/plugin_example_test.sh checks both types.
# SOURCES  the plugin's sources.
#
# What makes "link it and it registers" work: everything that links the target gets
# `-Wl,--undefined=micro_plugin_anchor_<NAME>`, so the linker pulls in the object file that
# defines the anchor (and with it the registering initialiser) from a static library, and keeps
# a shared one as a dependency even under --as-needed. The option is part of the target's
# interface, so it survives install(EXPORT) and find_package.
function(micro_add_plugin)
  cmake_parse_arguments(PARSE_ARGV 0 arg "STATIC;SHARED" "NAME;TARGET" "SOURCES")
  if(NOT arg_NAME OR NOT arg_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "micro_add_plugin: NAME must be a C identifier (got '${arg_NAME}')")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "micro_add_plugin(${arg_NAME}): no SOURCES")
  endif()
  set(target ${arg_TARGET})
  if(NOT target)
    set(target micro_${arg_NAME})
  endif()
  set(type)
  if(arg_STATIC)
    set(type STATIC)
  elseif(arg_SHARED)
    set(type SHARED)
  endif()
  add_library(${target} ${type} ${arg_SOURCES})
  if(NOT TARGET micro::${arg_NAME})
    add_library(micro::${arg_NAME} ALIAS ${target})
  endif()
  target_link_libraries(${target} PUBLIC micro::micro)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_options(${target} INTERFACE "LINKER:--undefined=micro_plugin_anchor_${arg_NAME}")
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${target})
endfunction()
