#ifndef DCDIR_SERVICE_API_API_ERROR_H_
#define DCDIR_SERVICE_API_API_ERROR_H_

// Errors inside the API layer are absl::Status values: the canonical code, a message a person
// can act on (never a secret), and the stable reason token (service/api/reasons.h) as the
// status payload at store::kReasonPayloadUrl — the one mechanism, the same the store uses for
// STORE_WRITE_UNCONFIRMED. Reply() turns a status into the gRPC answer, once, at the boundary.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace dcdir::api {

// The trailing metadata key carrying the stable reason token of an error.
inline constexpr char kErrorReasonKey[] = "dcdir-error-reason";

// An error with code `code` (not kOk), reason token `reason` (e.g. "INVALID_COUNTRY") and
// `message`.
absl::Status ApiError(absl::StatusCode code, absl::string_view reason, absl::string_view message);

// The reason token `status` carries; "" when none (OK, or a store/runtime status).
std::string ReasonOf(const absl::Status& status);

// The one conversion of an error to gRPC: returns the grpc::Status to finish with and, for an
// error, adds the reason trailer `dcdir-error-reason` to `context`. A status with a reason
// token keeps its code, token and message. One without (a store or runtime status) is mapped:
// NOT_FOUND -> NOT_FOUND NOT_FOUND; UNAVAILABLE, DEADLINE_EXCEEDED -> UNAVAILABLE
// STORE_UNAVAILABLE; INVALID_ARGUMENT -> INVALID_ARGUMENT INVALID_ARGUMENT; anything else ->
// INTERNAL INTERNAL, each with the status's message. OK -> grpc::Status::OK, no trailer.
grpc::Status Reply(grpc::ServerContextBase* context, const absl::Status& status);

// UNAVAILABLE NOT_READY: the replica has no snapshot yet (it has not read its store since it
// started). Every RPC that needs a snapshot answers this, with this one message.
absl::Status NotReadyError();

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_API_ERROR_H_
