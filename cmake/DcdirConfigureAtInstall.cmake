# Runs at install time (install(CODE) in DcdirInstall.cmake sets DCDIR_TEMPLATE, DCDIR_OUTPUT,
# DCDIR_DESTINATION and the DCDIR_*DIR relative directories): configures DCDIR_TEMPLATE with the
# real install prefix and installs it. `cmake --install --prefix P` and CPack (prefix /usr, the
# package tree in DESTDIR) each get paths under their own prefix.
set(_prefix "${CMAKE_INSTALL_PREFIX}")
# GNUInstallDirs' rule: prefix /usr keeps its configuration in /etc, any other prefix in P/etc.
if(_prefix STREQUAL "/usr")
  set(_sysconf "/etc")
else()
  set(_sysconf "${_prefix}/etc")
endif()
set(DCDIR_PREFIX "${_prefix}")
set(DCDIR_BIN_DIR "${_prefix}/${DCDIR_BINDIR}")
set(DCDIR_LIB_DIR "${_prefix}/${DCDIR_LIBDIR}")
set(DCDIR_INCLUDE_DIR "${_prefix}/${DCDIR_INCLUDEDIR}")
set(DCDIR_DATA_DIR "${_prefix}/${DCDIR_DATADIR}")
set(DCDIR_CONFIG_FILE "${_sysconf}/dcdir/world.yaml")
set(DCDIR_ENV_FILE "${_sysconf}/default/dcdir-server")
configure_file("${DCDIR_TEMPLATE}" "${DCDIR_OUTPUT}" @ONLY)
file(INSTALL DESTINATION "${_prefix}/${DCDIR_DESTINATION}" TYPE FILE
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES "${DCDIR_OUTPUT}")
