#ifndef DCDIR_TESTS_TESTING_STATUS_MATCHERS_H_
#define DCDIR_TESTS_TESTING_STATUS_MATCHERS_H_

// StatusIs(code, reason): the gmock matcher for how an RPC of dcdir failed, its canonical gRPC
// code and the reason token the server sends in the `dcdir-error-reason` trailer (the catalogue
// is docs/CONTRACT.md), instead of two hand-written EXPECT_EQs.
//
//   EXPECT_THAT(page, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_SIZE"));
//   EXPECT_THAT((RpcOutcome{status, ReasonOf(context)}),
//               StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "TOO_MANY_WATCHES"));
//
// Header only; the test links gmock and gRPC.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/support/status.h"

namespace dcdir::testing {

// What a call ended with: its status and the reason token of its trailers ("" when it had none;
// testing::ReasonOf(context) reads it).
// `RpcOutcome{stub->Call(&context, ...), ReasonOf(context)}` is safe in one expression: a braced
// list is evaluated left to right, so the trailers are read after the call returned.
struct RpcOutcome {
  grpc::Status status;
  std::string reason;
};

// The name of a gRPC code ("INVALID_ARGUMENT"); gRPC's codes are absl's numbers.
inline std::string GrpcCodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// Matches any value with a `status` (grpc::Status) and a `reason` (std::string) member, such as
// RpcOutcome, whose status code is `code` and whose reason token is exactly `reason` ("" for
// none). A mismatch prints the code, reason and message the call did end with.
MATCHER_P2(StatusIs, code, reason,
           absl::StrCat(negation ? "isn't " : "is ", GrpcCodeName(code), " with reason \"",
                        std::string(reason), "\"")) {
  *result_listener << "ended " << GrpcCodeName(arg.status.error_code()) << " with reason \""
                   << arg.reason << "\" and message \"" << arg.status.error_message() << "\"";
  return arg.status.error_code() == code && arg.reason == std::string(reason);
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_STATUS_MATCHERS_H_
