# Debian packages with CPack (`cpack -G DEB` in the build directory), one per install component
# (cmake/DcdirInstall.cmake):
#   dcdir-server          the server, the example config, Prometheus rules, Grafana dashboard and
#                         a hardened systemd unit (DynamicUser; not enabled on install)
#   dcdir-tools           dcdirctl, dcdir-agent
#   libdcdir-client-dev   the client library, headers, CMake package and pkg-config file
# Depends of the binaries come from dpkg-shlibdeps (package dpkg-dev); the -dev package names the
# -dev packages its CMake package and .pc file need. Binaries are stripped, the static libraries
# stripped of debug information (cmake/DcdirInstall.cmake). Installed under /usr. Each
# component's description: first line the package synopsis, then the long description.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dcdir)
set(CPACK_PACKAGE_VENDOR "dcdir")
set(CPACK_PACKAGE_CONTACT "dcdir maintainers <dcdir-maintainers@example.com>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)

set(CPACK_DEB_COMPONENT_INSTALL ON)
if(DCDIR_BUILD_CLIENTS)
  set(CPACK_COMPONENTS_ALL server tools dev)
else()
  set(CPACK_COMPONENTS_ALL server)  # no dcdirctl, dcdir-agent or client library in this build
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME dcdir-server)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
  "data-center directory server (dcdir)
dcdir-server answers, per client region, with ranked primary and secondary data centers that
follow live health and congestion and never break a jurisdiction rule. Ships the example world
config, Prometheus alert rules, a Grafana dashboard and a hardened systemd unit (not enabled).")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/dcdir-server/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/dcdir-server/postrm)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME dcdir-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
  "dcdirctl and dcdir-agent, the operator CLI and DC health reporter of dcdir
dcdirctl queries and administers a dcdir server; dcdir-agent reports a data center's health
and congestion from probes.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libdcdir-client-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# What find_package(dcdir) and pkg-config --libs dcdir-client pull in. Debian's gRPC CMake
# package also checks that its code generator plugins exist (protobuf-compiler-grpc); libssl-dev
# for the library's own use of libcrypto (a TLS key checked against its certificate).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libgrpc++-dev, libprotobuf-dev, libabsl-dev, protobuf-compiler-grpc, libssl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "C++ client library of dcdir, the data-center directory (development files)
Static library (position-independent) with its public headers under dcdir/client/, the CMake
package (find_package(dcdir CONFIG) gives dcdir::client) and dcdir-client.pc for pkg-config.")

include(CPack)
