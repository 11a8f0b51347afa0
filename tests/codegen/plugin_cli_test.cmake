# cmake -DPROTOC=... -DPLUGIN=... -DSRC=... -DGREETER=... -DWORK=... -P plugin_cli_test.cmake
# Runs protoc-gen-micro by itself: deterministic outputs, outputs for a file without services,
# the greeter's names, and a rejected parameter.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/a ${WORK}/b ${WORK}/c)
get_filename_component(greeter_dir ${GREETER} DIRECTORY)

function(run_protoc out expect_ok)
  execute_process(
    COMMAND ${PROTOC} --plugin=protoc-gen-micro=${PLUGIN} -I${SRC} -I${greeter_dir}
            ${out} other.proto greeter.proto
    WORKING_DIRECTORY ${SRC}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "protoc failed (${rc}): ${err}")
  elseif(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "protoc accepted ${out}")
  endif()
  set(last_error "${err}" PARENT_SCOPE)
endfunction()

run_protoc(--micro_out=${WORK}/a TRUE)
run_protoc(--micro_out=${WORK}/b TRUE)
foreach(f other.micro.h other.micro.cc other.micro.mock.h
          greeter.micro.h greeter.micro.cc greeter.micro.mock.h)
  if(NOT EXISTS ${WORK}/a/${f})
    message(FATAL_ERROR "missing output ${f}")
  endif()
  file(READ ${WORK}/a/${f} first)
  file(READ ${WORK}/b/${f} second)
  if(NOT first STREQUAL second)
    message(FATAL_ERROR "${f} differs between two runs")
  endif()
endforeach()

file(READ ${WORK}/a/other.micro.h other_h)
if(other_h MATCHES "class " OR NOT other_h MATCHES "#include \"other.pb.h\"")
  message(FATAL_ERROR "other.micro.h (no services) has unexpected content:\n${other_h}")
endif()

file(READ ${WORK}/a/greeter.micro.h greeter_h)
foreach(expected
    "namespace greeter {"
    "kGreeterHelloEndpoint = \"Greeter.Hello\""
    "kGreeterStreamEndpoint = \"Greeter.Stream\""
    "class GreeterService {"
    "class GreeterHandler {"
    "class GreeterAsyncHandler {"
    "RegisterGreeterHandler(::micro::Server& server")
  string(FIND "${greeter_h}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "greeter.micro.h lacks \"${expected}\"")
  endif()
endforeach()

run_protoc(--micro_out=bogus=1:${WORK}/c FALSE)
if(NOT last_error MATCHES "takes no parameters")
  message(FATAL_ERROR "unexpected error text: ${last_error}")
endif()
message(STATUS "protoc-gen-micro CLI checks passed")
