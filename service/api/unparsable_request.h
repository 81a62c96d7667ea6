#ifndef DCDIR_SERVICE_API_UNPARSABLE_REQUEST_H_
#define DCDIR_SERVICE_API_UNPARSABLE_REQUEST_H_

// Requests gRPC cannot parse into the RPC's message (a string field that is not valid UTF-8, a
// truncated message). gRPC 1.51's callback API rejects them before any handler runs, with
// UNIMPLEMENTED, no message and no reason, so neither the client nor the operator could tell
// what happened. This server interceptor sees the status on its way out, and for the RPCs of
// the dcdir.v1 services (whose handlers never answer UNIMPLEMENTED) replaces it with
// INVALID_ARGUMENT, reason UNPARSABLE_REQUEST, and counts it in
// dcdir_unparsable_requests_total{method}. Except GetDirectory, the hot path: an interceptor
// there cost ~13% of its throughput, so it keeps gRPC's UNIMPLEMENTED, uncounted.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "service/metrics/metrics.h"

namespace dcdir::api {

class UnparsableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // Creates the series of every method of the dcdir.v1 services (from the generated
  // descriptors). `metrics` must outlive the server.
  explicit UnparsableRequestInterceptorFactory(metrics::Metrics* metrics);

  // An interceptor for the dcdir.v1 methods but GetDirectory; null (no interceptor, no cost)
  // for the others (GetDirectory, health, reflection, unknown methods).
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  // "/dcdir.v1.Service/Method" -> its series; fixed after construction.
  absl::flat_hash_map<std::string, prometheus::Counter*> methods_;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_UNPARSABLE_REQUEST_H_
