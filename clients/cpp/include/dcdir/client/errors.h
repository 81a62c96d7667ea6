#ifndef DCDIR_CLIENT_ERRORS_H_
#define DCDIR_CLIENT_ERRORS_H_

// Errors of dcdir calls: canonical codes (absl::StatusCode, the gRPC numbering) plus the
// server's stable reason token (README "The API": INVALID_COUNTRY, NO_COMPLIANT_DATACENTER, ...)
// or one of the library's own (PINNING_REFUSED_ALL, EMPTY_DIRECTORY, CACHE_EXPIRED).

#include <string>

#include "absl/status/status.h"

namespace dcdir::client {

// The trailing metadata key carrying the stable reason token of an error.
inline constexpr char kErrorReasonKey[] = "dcdir-error-reason";

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

#endif  // DCDIR_CLIENT_ERRORS_H_
