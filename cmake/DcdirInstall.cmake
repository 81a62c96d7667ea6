# What `cmake --install` puts where (GNUInstallDirs), in three components that are also the
# Debian packages (cmake/DcdirPackaging.cmake):
#   server  bin/dcdir-server, share/dcdir/{world.yaml, prometheus/, grafana/},
#           lib/systemd/system/dcdir-server.service
#   tools   bin/dcdirctl, bin/dcdir-agent
#   dev     the client library (lib/libdcdir-client.a + lib/libdcdir-proto.a, the generated
#           protobuf code it is built on), its public headers (include/dcdir/client/), the CMake
#           package (find_package(dcdir CONFIG) -> dcdir::client) and dcdir-client.pc.
# The expected file list is tests/install/testdata/install-manifest.txt.
#
# The client library is static (with position-independent code, so an app may link it into a
# shared object of its own): its API carries Abseil and std types whose layout is not a stable
# ABI, and the project is at 0.x; a shared library would need a SONAME bump on nearly every
# change and a runtime package of its own. The generated protobuf code lives in a second archive
# because dcdirctl, dcdir-agent and the server link the same generated code; its headers are
# not installed (dcdir::proto is link-only: not an API).
include(CMakePackageConfigHelpers)

set(DCDIR_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/dcdir)
set(DCDIR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/dcdir)
set(DCDIR_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# Relative to the prefix: /usr/lib/systemd/system for the packages (prefix /usr).
set(DCDIR_INSTALL_SYSTEMDUNITDIR lib/systemd/system CACHE STRING
  "Where the systemd unit is installed, relative to the install prefix")

# Installs TEMPLATE (a .in file with @DCDIR_BIN_DIR@, @DCDIR_CONFIG_FILE@, ...; see
# DcdirConfigureAtInstall.cmake) as DESTINATION/NAME, configured when the prefix is known.
function(dcdir_install_configured template destination name component)
  install(CODE "
    set(DCDIR_TEMPLATE [[${template}]])
    set(DCDIR_OUTPUT [[${PROJECT_BINARY_DIR}/install-time/${name}]])
    set(DCDIR_DESTINATION [[${destination}]])
    set(DCDIR_BINDIR [[${CMAKE_INSTALL_BINDIR}]])
    set(DCDIR_LIBDIR [[${CMAKE_INSTALL_LIBDIR}]])
    set(DCDIR_INCLUDEDIR [[${CMAKE_INSTALL_INCLUDEDIR}]])
    set(DCDIR_DATADIR [[${DCDIR_INSTALL_DATADIR}]])
    set(PROJECT_VERSION [[${PROJECT_VERSION}]])
    include([[${PROJECT_SOURCE_DIR}/cmake/DcdirConfigureAtInstall.cmake]])"
    COMPONENT ${component})
endfunction()

# ---- server ----
install(TARGETS dcdir-server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/config/world.yaml
  DESTINATION ${DCDIR_INSTALL_DATADIR} COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/prometheus/dcdir-rules.yaml
  DESTINATION ${DCDIR_INSTALL_DATADIR}/prometheus COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/grafana/dcdir-dashboard.json
  DESTINATION ${DCDIR_INSTALL_DATADIR}/grafana COMPONENT server)
dcdir_install_configured(${PROJECT_SOURCE_DIR}/packaging/systemd/dcdir-server.service.in
  ${DCDIR_INSTALL_SYSTEMDUNITDIR} dcdir-server.service server)

if(DCDIR_BUILD_CLIENTS)
  # ---- tools ----
  install(TARGETS dcdirctl dcdir-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    COMPONENT tools)

  # ---- dev: library, headers, CMake package, pkg-config ----
  set_target_properties(dcdir_proto PROPERTIES OUTPUT_NAME dcdir-proto EXPORT_NAME proto
    POSITION_INDEPENDENT_CODE ON)
  install(TARGETS dcdir_client dcdir_proto EXPORT dcdirTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
    FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
  # Stripped installs (cpack, cmake --install --strip) drop the archives' debug information, as
  # Debian does for the static libraries of -dev packages.
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      foreach(lib libdcdir-client.a libdcdir-proto.a)
        execute_process(COMMAND [[${CMAKE_STRIP}]] --strip-debug
          \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/\${lib}\"
          COMMAND_ERROR_IS_FATAL ANY)
      endforeach()
    endif()" COMPONENT dev)
  install(EXPORT dcdirTargets NAMESPACE dcdir:: DESTINATION ${DCDIR_INSTALL_CMAKEDIR}
    COMPONENT dev)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dcdirConfig.cmake.in
    ${PROJECT_BINARY_DIR}/cmake/dcdirConfig.cmake
    INSTALL_DESTINATION ${DCDIR_INSTALL_CMAKEDIR}
    NO_SET_AND_CHECK_MACRO)
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/dcdirConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/cmake/dcdirConfig.cmake
    ${PROJECT_BINARY_DIR}/cmake/dcdirConfigVersion.cmake
    DESTINATION ${DCDIR_INSTALL_CMAKEDIR} COMPONENT dev)
  dcdir_install_configured(${PROJECT_SOURCE_DIR}/cmake/dcdir-client.pc.in
    ${DCDIR_INSTALL_PKGCONFIGDIR} dcdir-client.pc dev)
endif()

include(DcdirPackaging)
