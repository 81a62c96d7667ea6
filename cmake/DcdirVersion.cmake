# The version header, from project(dcdir VERSION ...) only: dcdir/client/version.h in the build
# tree. Every binary includes it through dcdir::version (header only); the client library
# installs it with its public headers.
set(DCDIR_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/generated/include)
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in
  ${DCDIR_GENERATED_INCLUDE_DIR}/dcdir/client/version.h @ONLY)

add_library(dcdir_version INTERFACE)
add_library(dcdir::version ALIAS dcdir_version)
target_include_directories(dcdir_version INTERFACE
  $<BUILD_INTERFACE:${DCDIR_GENERATED_INCLUDE_DIR}>)
