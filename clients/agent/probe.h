#ifndef DCDIR_CLIENTS_AGENT_PROBE_H_
#define DCDIR_CLIENTS_AGENT_PROBE_H_

// Liveness probes of a DC's gateway endpoints.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dcdir::agent {

// Opens (and closes) a TCP connection to "host:port" within `timeout`.
absl::Status TcpProbe(const std::string& endpoint, absl::Duration timeout);

// Calls grpc.health.v1.Health/Check (service "") on "host:port"; OK only when SERVING.
absl::Status GrpcHealthProbe(const std::string& endpoint, absl::Duration timeout);

}  // namespace dcdir::agent

#endif  // DCDIR_CLIENTS_AGENT_PROBE_H_
