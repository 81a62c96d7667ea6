#include "service/api/api_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "service/api/reasons.h"
#include "service/store/store.h"

namespace dcdir::api {

grpc::Status Reply(grpc::ServerContextBase* context, const ApiError& error) {
  if (!error.reason.empty()) context->AddTrailingMetadata(kErrorReasonKey, error.reason);
  return grpc::Status(error.code, error.message);
}

ApiError FromStatus(const absl::Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return {};
    case absl::StatusCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, reasons::kNotFound, message};
    case absl::StatusCode::kUnavailable:
      // A write the store could not confirm says so (store::kWriteUnconfirmedReason).
      if (auto reason = status.GetPayload(store::kReasonPayloadUrl)) {
        return {grpc::StatusCode::UNAVAILABLE, std::string(*reason), message};
      }
      return {grpc::StatusCode::UNAVAILABLE, reasons::kStoreUnavailable, message};
    case absl::StatusCode::kDeadlineExceeded:
      return {grpc::StatusCode::UNAVAILABLE, reasons::kStoreUnavailable, message};
    case absl::StatusCode::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, reasons::kInvalidArgument, message};
    default:
      return {grpc::StatusCode::INTERNAL, reasons::kInternal, message};
  }
}

ApiError NotReadyError() {
  return {grpc::StatusCode::UNAVAILABLE, reasons::kNotReady,
          "the directory has no snapshot yet (it has not read its store since it started); "
          "retry shortly"};
}

}  // namespace dcdir::api
