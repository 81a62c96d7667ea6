#include "clients/cpp/errors.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"

namespace dcdir::client {
namespace {

constexpr char kReasonPayloadUrl[] = "dcdir.dev/error-reason";

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kErrorReasonKey); it != trailers.end()) {
    result = WithReason(std::move(result), std::string(it->second.data(), it->second.size()));
  }
  return result;
}

absl::Status WithReason(absl::Status status, const std::string& reason) {
  if (!status.ok() && !reason.empty()) status.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  return payload.has_value() ? std::string(*payload) : std::string();
}

bool IsTransportFailure(const absl::Status& status) {
  return (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
         ErrorReason(status).empty();
}

bool IsRetryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status) || absl::IsAborted(status);
}

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

}  // namespace dcdir::client
