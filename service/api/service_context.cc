#include "service/api/service_context.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/api/reasons.h"

namespace dcdir::api {

absl::Status Authenticator::CheckToken(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return ApiError(absl::StatusCode::kUnauthenticated, reasons::kMissingCredentials,
                    "this RPC needs the metadata 'authorization: Bearer <token>'");
  }
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  bool ok = value.starts_with(kPrefix);
  const std::string_view given = ok ? value.substr(kPrefix.size()) : std::string_view();
  // Compare every byte whatever the lengths, so timing does not tell how much matched.
  unsigned char diff = given.size() == token_.size() ? 0 : 1;
  for (size_t i = 0; i < token_.size(); ++i) {
    diff |= static_cast<unsigned char>(token_[i] ^ (i < given.size() ? given[i] : 0));
  }
  if (!ok || diff != 0) {
    return ApiError(absl::StatusCode::kUnauthenticated, reasons::kInvalidCredentials,
                    "the bearer token is not valid for this server");
  }
  return absl::OkStatus();
}

absl::StatusOr<Authenticator::Caller> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  Caller caller;
  if (!enabled()) {
    caller.everything = true;
    return caller;
  }
  absl::Status token_error;
  if (!token_.empty()) {
    token_error = CheckToken(context);
    if (token_error.ok()) {
      caller.everything = true;
      return caller;
    }
  }
  if (client_certs_) {
    const auto auth_context = context.auth_context();
    caller.certificate = IdentityOf(auth_context.get());
    if (caller.certificate.present) return caller;
  }
  if (!token_error.ok() && context.client_metadata().count("authorization") > 0) {
    return token_error;
  }
  return ApiError(absl::StatusCode::kUnauthenticated, reasons::kMissingCredentials,
                  client_certs_ && !token_.empty()
                      ? "this RPC needs a client certificate or the metadata "
                        "'authorization: Bearer <token>'"
                  : client_certs_ ? "this RPC needs a client certificate"
                                  : "this RPC needs the metadata 'authorization: Bearer <token>'");
}

absl::Status Authenticator::Check(const grpc::ServerContextBase& context) const {
  return Authenticate(context).status();
}

absl::Status Authenticator::CheckAdmin(const grpc::ServerContextBase& context) const {
  absl::StatusOr<Caller> caller = Authenticate(context);
  if (!caller.ok()) return caller.status();
  if (caller->everything || caller->certificate.admin) return absl::OkStatus();
  return ApiError(absl::StatusCode::kPermissionDenied, reasons::kNotAnAdminCertificate,
                  "the client certificate does not carry the SAN dcdir://admin");
}

absl::Status Authenticator::CheckMayReport(const Caller& caller, const std::string& dc_id) {
  if (caller.everything) return absl::OkStatus();
  for (const std::string& id : caller.certificate.dc_ids) {
    if (id == dc_id) return absl::OkStatus();
  }
  return ApiError(absl::StatusCode::kPermissionDenied, reasons::kDatacenterNotInCertificate,
                  "the client certificate is not issued for this data center");
}

std::string RequestHeader(const grpc::ServerContextBase& context, const char* name) {
  std::string out;
  const auto range = context.client_metadata().equal_range(name);
  for (auto it = range.first; it != range.second; ++it) {
    if (!out.empty()) out += ",";
    out.append(it->second.data(), it->second.size());
  }
  return out;
}

bool FinishOnStoreQueue(const ServiceContext& context, grpc::CallbackServerContext* call_context,
                        grpc::ServerUnaryReactor* reactor,
                        absl::AnyInvocable<absl::Status() &&> call) {
  auto run = [call_context, reactor, call = std::move(call)]() mutable {
    // The deadline is checked too: gRPC marks the call cancelled a little after it passes.
    if (call_context->IsCancelled() ||
        std::chrono::system_clock::now() >= call_context->deadline()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                   "the call ended while it waited for the store"));
      return;
    }
    reactor->Finish(Reply(call_context, std::move(call)()));
  };
  if (context.store_calls->TrySubmit(std::move(run))) return true;
  reactor->Finish(
      Reply(call_context, ApiError(absl::StatusCode::kUnavailable, reasons::kStoreUnavailable,
                                   absl::StrCat("too many writes are waiting for the store (",
                                                context.store_calls->backlog(),
                                                "); it is slow or unreachable: retry with "
                                                "backoff"))));
  return false;
}

}  // namespace dcdir::api
