#ifndef DCDIR_SERVICE_API_SERVICE_CONTEXT_H_
#define DCDIR_SERVICE_API_SERVICE_CONTEXT_H_

#include <string>
#include <string_view>
#include <optional>

#include "grpcpp/server_context.h"
#include "service/api/api_error.h"
#include "service/core/clock.h"
#include "service/metrics/metrics.h"
#include "service/runtime/directory_state.h"

namespace dcdir::api {

// Checks `authorization: Bearer <token>` when a token is configured.
class Authenticator {
 public:
  // An empty token disables the check.
  explicit Authenticator(std::string token) : token_(std::move(token)) {}
  bool enabled() const { return !token_.empty(); }
  // nullopt when the call may proceed, else UNAUTHENTICATED. Constant-time comparison; the
  // error never echoes what the caller sent.
  std::optional<ApiError> Check(const grpc::ServerContextBase& context) const;

 private:
  std::string token_;
};

// What every handler needs. Owned by the server; outlives the services.
struct ServiceContext {
  runtime::DirectoryState* state = nullptr;
  metrics::Metrics* metrics = nullptr;
  const core::Clock* clock = nullptr;
  const Authenticator* auth = nullptr;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_SERVICE_CONTEXT_H_
