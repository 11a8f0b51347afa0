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
