#ifndef DCDIR_SERVICE_API_API_ERROR_H_
#define DCDIR_SERVICE_API_API_ERROR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace dcdir::api {

// The trailing metadata key carrying the stable reason token of an error.
inline constexpr char kErrorReasonKey[] = "dcdir-error-reason";

// An error answer: canonical code, stable reason token, and a message a person can act on.
struct ApiError {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string reason;   // e.g. "INVALID_COUNTRY"
  std::string message;  // never contains secrets
};

// Adds the reason trailer to `context` and returns the grpc::Status to finish with.
grpc::Status Reply(grpc::ServerContextBase* context, const ApiError& error);

// Maps a store/runtime status to an ApiError (UNAVAILABLE -> STORE_UNAVAILABLE, or the reason
// token the status carries at store::kReasonPayloadUrl, e.g. STORE_WRITE_UNCONFIRMED; ...).
ApiError FromStatus(const absl::Status& status);

// UNAVAILABLE NOT_READY: the replica has no snapshot yet (it has not read its store since it
// started). Every RPC that needs a snapshot answers this, with this one message.
ApiError NotReadyError();

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_API_ERROR_H_
