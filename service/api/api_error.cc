#include "service/api/api_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "service/api/reasons.h"
#include "service/store/store.h"

namespace dcdir::api {

absl::Status ApiError(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(store::kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  if (status.ok()) return "";
  auto reason = status.GetPayload(store::kReasonPayloadUrl);  // absl::optional in Debian's Abseil
  return reason ? std::string(*reason) : std::string();
}

grpc::Status Reply(grpc::ServerContextBase* context, const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string reason = ReasonOf(status);
  // absl's codes are gRPC's numbers.
  auto code = static_cast<grpc::StatusCode>(status.code());
  if (reason.empty()) {
    switch (status.code()) {
      case absl::StatusCode::kNotFound:
        reason = reasons::kNotFound;
        break;
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
        code = grpc::StatusCode::UNAVAILABLE;
        reason = reasons::kStoreUnavailable;
        break;
      case absl::StatusCode::kInvalidArgument:
        reason = reasons::kInvalidArgument;
        break;
      default:
        code = grpc::StatusCode::INTERNAL;
        reason = reasons::kInternal;
        break;
    }
  }
  context->AddTrailingMetadata(kErrorReasonKey, reason);
  return grpc::Status(code, std::string(status.message()));
}

absl::Status NotReadyError() {
  return ApiError(absl::StatusCode::kUnavailable, reasons::kNotReady,
                  "the directory has no snapshot yet (it has not read its store since it "
                  "started); retry shortly");
}

}  // namespace dcdir::api
