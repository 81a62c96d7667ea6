#ifndef DCDIR_CLIENTS_CPP_ERRORS_H_
#define DCDIR_CLIENTS_CPP_ERRORS_H_

// gRPC status <-> absl::Status for dcdir calls, keeping the server's stable reason token.

#include <string>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace dcdir::client {

// The trailing metadata key carrying the stable reason token of an error.
inline constexpr char kErrorReasonKey[] = "dcdir-error-reason";

// The absl::Status for a finished call: the code and message of `status`, plus the reason token
// from the call's trailing metadata (if any) as a payload (see ErrorReason).
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

// Builds an error carrying a reason token (used by fakes and by the library's own errors).
absl::Status WithReason(absl::Status status, const std::string& reason);

// The reason token of `status` ("INVALID_COUNTRY", ...), or "" when the server sent none.
std::string ErrorReason(const absl::Status& status);

// True when no dcdir server answered the call: UNAVAILABLE or DEADLINE_EXCEEDED without a
// reason token (connection refused, timeout). A server's own UNAVAILABLE carries a reason.
bool IsTransportFailure(const absl::Status& status);

// True when retrying the same request later may succeed (UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED).
bool IsRetryable(const absl::Status& status);

// "CODE_NAME" of a canonical code, e.g. "INVALID_ARGUMENT".
std::string CodeName(absl::StatusCode code);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_ERRORS_H_
