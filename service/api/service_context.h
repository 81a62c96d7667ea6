#ifndef DCDIR_SERVICE_API_SERVICE_CONTEXT_H_
#define DCDIR_SERVICE_API_SERVICE_CONTEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "service/api/api_error.h"
#include "service/api/tls.h"
#include "service/core/clock.h"
#include "service/geoip/geoip_database.h"
#include "service/metrics/metrics.h"
#include "service/runtime/directory_state.h"
#include "service/util/work_queue.h"

namespace dcdir::api {

// Who may call ReportHealth and the admin RPCs: a caller with the bearer token (`authorization:
// Bearer <token>`) may do everything; a caller with a verified client certificate (mTLS, when the
// server has a client CA) may report for the DCs its certificate names and, with `dcdir://admin`,
// call the admin RPCs. With neither a token nor client certificates configured, anyone may.
class Authenticator {
 public:
  // An empty token disables the token; `client_certs`: the port verifies client certificates.
  explicit Authenticator(std::string token, bool client_certs = false)
      : token_(std::move(token)), client_certs_(client_certs) {}
  bool enabled() const { return !token_.empty() || client_certs_; }

  struct Caller {
    bool everything = false;        // no check configured, or the bearer token
    CertificateIdentity certificate;  // when admitted by its client certificate
  };
  // The caller when the call may proceed, else UNAUTHENTICATED (MISSING_CREDENTIALS,
  // INVALID_CREDENTIALS). Constant-time token comparison; the error never echoes what the
  // caller sent.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context) const;
  // Authenticate, for callers that need no more than "is it someone we know".
  absl::Status Check(const grpc::ServerContextBase& context) const;
  // Authenticate, then PERMISSION_DENIED (NOT_AN_ADMIN_CERTIFICATE) for a certificate without
  // `dcdir://admin`.
  absl::Status CheckAdmin(const grpc::ServerContextBase& context) const;
  // PERMISSION_DENIED (DATACENTER_NOT_IN_CERTIFICATE) unless `caller` may report for `dc_id`.
  static absl::Status CheckMayReport(const Caller& caller, const std::string& dc_id);

 private:
  absl::Status CheckToken(const grpc::ServerContextBase& context) const;

  std::string token_;
  bool client_certs_ = false;
};

// What every handler needs. Owned by the server; outlives the services.
// The value of a request header, several lines joined with ","; "" when absent.
std::string RequestHeader(const grpc::ServerContextBase& context, const char* name);

struct ServiceContext {
  runtime::DirectoryState* state = nullptr;
  metrics::Metrics* metrics = nullptr;
  const core::Clock* clock = nullptr;
  const Authenticator* auth = nullptr;
  // Locates clients by their address (--geoip_db); null: no GeoIP.
  const geoip::ClientLocator* locator = nullptr;
  // Where the RPCs that write to the store (ReportHealth, SetTenantPolicy, DeleteTenantPolicy)
  // run, off gRPC's callback threads. Required.
  util::WorkQueue* store_calls = nullptr;
};

// Runs `call` (which may wait on the store) on `context.store_calls` and finishes `reactor`
// with its result (Reply()). Never blocks the calling gRPC thread.
// - Backlog full: `call` does not run; the RPC is finished UNAVAILABLE STORE_UNAVAILABLE at once
//   and the result is false (the caller may count it).
// - The client went away (deadline, cancel) while the call waited in the queue: `call` does not
//   run, so nothing is written that nobody is told about; the RPC is finished CANCELLED. A call
//   already running when its client goes away completes (its write may land).
bool FinishOnStoreQueue(const ServiceContext& context, grpc::CallbackServerContext* call_context,
                        grpc::ServerUnaryReactor* reactor,
                        absl::AnyInvocable<absl::Status() &&> call);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_SERVICE_CONTEXT_H_
