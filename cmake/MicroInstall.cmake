# cmake --install: headers, libmicro, libmicro_cli, the micro program, protoc-gen-micro, and a
# package config giving micro::micro, micro::cli and micro::protoc-gen-micro.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/micro DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS micro micro_api micro_web micro_sidecar EXPORT microTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# micro::cli (the `micro` command line as a library) and the `micro` program itself.
install(TARGETS micro_cli EXPORT microTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS micro_program RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The protoc plugin: consumers get the imported micro::protoc-gen-micro (used by micro_generate).
install(TARGETS protoc-gen-micro EXPORT microTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(MICRO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/micro)
install(EXPORT microTargets NAMESPACE micro:: DESTINATION ${MICRO_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/microConfig.cmake.in
  ${PROJECT_BINARY_DIR}/microConfig.cmake INSTALL_DESTINATION ${MICRO_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/microConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/microConfig.cmake
  ${PROJECT_BINARY_DIR}/microConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/MicroDependencies.cmake
  ${PROJECT_SOURCE_DIR}/cmake/MicroProtobuf.cmake
  ${PROJECT_SOURCE_DIR}/cmake/MicroPlugin.cmake
  DESTINATION ${MICRO_CMAKE_DIR})

# Plugin micro::nats (when built), in an export set of its own: the core package does not need
# libnats; microConfig.cmake finds libnats and loads these targets only when they exist.
if(TARGET micro_nats)
  install(TARGETS micro_nats EXPORT microNatsTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugins/nats/include/micro
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT microNatsTargets NAMESPACE micro:: DESTINATION ${MICRO_CMAKE_DIR})
endif()

# Registry plugins (micro::etcd, micro::consul): libraries and headers, in the same export set.
foreach(plugin etcd consul)
  if(TARGET micro_${plugin})
    install(TARGETS micro_${plugin} EXPORT microTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugins/${plugin}/include/micro/
      DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/micro)
  endif()
endforeach()

# micro::contract_tests (built with the tests): the contract suites for plugin authors, in an
# export set of its own; microConfig.cmake loads it when GoogleTest is found.
if(TARGET micro_contract_tests)
  install(TARGETS micro_contract_tests EXPORT microContractTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT microContractTargets NAMESPACE micro:: DESTINATION ${MICRO_CMAKE_DIR})
endif()
