# micro_protobuf_generate(<target> PROTOS a.proto ... [IMPORT_DIRS dir ...])
# Runs protoc (C++ output) for the given files into the target's binary dir and adds the
# generated sources to <target>. Output names are <basename>.pb.{h,cc} next to the proto's path
# relative to its import dir, so includes read "greeter.pb.h".
function(micro_protobuf_generate target)
  cmake_parse_arguments(ARG "" "OUT_DIR" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_OUT_DIR)
    set(ARG_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/gen)
  endif()
  file(MAKE_DIRECTORY ${ARG_OUT_DIR})
  set(import_flags)
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    list(APPEND import_flags -I${dir})
  endforeach()
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE)
    get_filename_component(dir ${abs} DIRECTORY)
    get_filename_component(name ${abs} NAME_WE)
    set(out_h ${ARG_OUT_DIR}/${name}.pb.h)
    set(out_cc ${ARG_OUT_DIR}/${name}.pb.cc)
    add_custom_command(
      OUTPUT ${out_h} ${out_cc}
      COMMAND protobuf::protoc -I${dir} ${import_flags} --cpp_out=${ARG_OUT_DIR} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${name}.proto"
      VERBATIM)
    target_sources(${target} PRIVATE ${out_cc} ${out_h})
  endforeach()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${ARG_OUT_DIR}>)
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
endfunction()

# micro_generate(<target> PROTOS a.proto ... [IMPORT_DIRS dir ...] [OUT_DIR dir])
# Generates protobuf messages and micro-cpp services for each .proto and compiles them into
# <target> (one protoc run per file, with --cpp_out and --micro_out):
#   <OUT_DIR>/<basename>.pb.{h,cc}          messages (protoc's C++ generator)
#   <OUT_DIR>/<basename>.micro.{h,cc}       XService, XHandler, RegisterXHandler, ... per service
#   <OUT_DIR>/<basename>.micro.mock.h       gmock mocks (include only from tests)
# OUT_DIR defaults to ${CMAKE_CURRENT_BINARY_DIR}/gen and is a PUBLIC include dir of <target>,
# which also links micro::micro. Each proto's own directory is its import root, then
# IMPORT_DIRS. The plugin is the in-tree protoc-gen-micro target when it exists, else the
# installed micro::protoc-gen-micro. See docs/codegen.md.
function(micro_generate target)
  cmake_parse_arguments(ARG "" "OUT_DIR" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "micro_generate: unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_PROTOS)
    message(FATAL_ERROR "micro_generate: no PROTOS given")
  endif()
  if(TARGET protoc-gen-micro)
    set(plugin protoc-gen-micro)
  elseif(TARGET micro::protoc-gen-micro)
    set(plugin micro::protoc-gen-micro)
  else()
    message(FATAL_ERROR "micro_generate: no protoc-gen-micro target (find_package(micro) first)")
  endif()
  if(NOT ARG_OUT_DIR)
    set(ARG_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/gen)
  endif()
  file(MAKE_DIRECTORY ${ARG_OUT_DIR})
  set(import_flags)
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND import_flags -I${dir})
  endforeach()
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(abs ${proto} ABSOLUTE)
    get_filename_component(dir ${abs} DIRECTORY)
    get_filename_component(name ${abs} NAME_WE)
    set(outputs
      ${ARG_OUT_DIR}/${name}.pb.h ${ARG_OUT_DIR}/${name}.pb.cc
      ${ARG_OUT_DIR}/${name}.micro.h ${ARG_OUT_DIR}/${name}.micro.cc
      ${ARG_OUT_DIR}/${name}.micro.mock.h)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc --plugin=protoc-gen-micro=$<TARGET_FILE:${plugin}>
              -I${dir} ${import_flags}
              --cpp_out=${ARG_OUT_DIR} --micro_out=${ARG_OUT_DIR} ${abs}
      DEPENDS ${abs} protobuf::protoc ${plugin} $<TARGET_FILE:${plugin}>
      COMMENT "protoc ${name}.proto (messages and micro services)"
      VERBATIM)
    target_sources(${target} PRIVATE ${outputs})
  endforeach()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${ARG_OUT_DIR}>)
  target_link_libraries(${target} PUBLIC micro::micro protobuf::libprotobuf)
endfunction()
