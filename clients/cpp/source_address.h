#ifndef DCDIR_CLIENTS_CPP_SOURCE_ADDRESS_H_
#define DCDIR_CLIENTS_CPP_SOURCE_ADDRESS_H_

// A plaintext gRPC channel whose TCP connection comes from a chosen local address (e.g.
// 127.0.1.5), so that the server sees that address as the peer (what its GeoIP locates).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace dcdir::client {

// Connects to `target` ("host:port", IPv4 or IPv6 literal or a name) from `local_address` (an
// IP literal; port chosen by the kernel) within `timeout` and wraps the socket in a channel.
// The channel does not reconnect once that connection closes. INVALID_ARGUMENT for a bad
// address, UNAVAILABLE when the bind or connect fails (with the system's reason).
absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelFromAddress(const std::string& target,
                                                                  const std::string& local_address,
                                                                  absl::Duration timeout);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_SOURCE_ADDRESS_H_
