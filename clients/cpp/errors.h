#ifndef DCDIR_CLIENTS_CPP_ERRORS_H_
#define DCDIR_CLIENTS_CPP_ERRORS_H_

// gRPC status -> absl::Status for dcdir calls, keeping the server's stable reason token. Inside
// the library and for dcdirctl / dcdir-agent (which call the generated stubs); not installed:
// apps get dcdir/client/errors.h, which this header includes.

#include "dcdir/client/errors.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace dcdir::client {

// The absl::Status for a finished call: the code and message of `status`, plus the reason token
// from the call's trailing metadata (if any) as a payload (see ErrorReason).
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_ERRORS_H_
