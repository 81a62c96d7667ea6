#ifndef DCDIR_SERVICE_UTIL_LISTEN_SOCKET_H_
#define DCDIR_SERVICE_UTIL_LISTEN_SOCKET_H_

// A bound, listening, non-blocking TCP socket (the gRPC port's accept loop and /metrics).

#include <string>

#include "absl/status/statusor.h"

namespace dcdir::util {

struct ListenSocket {
  int fd = -1;    // owned by the caller (close it)
  int port = 0;   // the bound port (the one picked when 0 was asked)
};

// Binds `host`:`port` (an IPv4 or IPv6 literal, "[::]" style brackets allowed, or a name; "::"
// also accepts IPv4 clients) with SO_REUSEADDR and listens with `backlog`. INVALID_ARGUMENT for
// a host that does not resolve or a port outside [0, 65535], UNAVAILABLE when no address can be
// bound (e.g. the port is in use), with the system's reason.
absl::StatusOr<ListenSocket> OpenListenSocket(const std::string& host, int port, int backlog);

}  // namespace dcdir::util

#endif  // DCDIR_SERVICE_UTIL_LISTEN_SOCKET_H_
