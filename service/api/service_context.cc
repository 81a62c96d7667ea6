#include "service/api/service_context.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/api/reasons.h"

namespace dcdir::api {

std::optional<ApiError> Authenticator::CheckToken(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return ApiError{grpc::StatusCode::UNAUTHENTICATED, reasons::kMissingCredentials,
                    "this RPC needs the metadata 'authorization: Bearer <token>'"};
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
    return ApiError{grpc::StatusCode::UNAUTHENTICATED, reasons::kInvalidCredentials,
                    "the bearer token is not valid for this server"};
  }
  return std::nullopt;
}

std::optional<ApiError> Authenticator::Authenticate(const grpc::ServerContextBase& context,
                                                    Caller* caller) const {
  *caller = Caller{};
  if (!enabled()) {
    caller->everything = true;
    return std::nullopt;
  }
  std::optional<ApiError> token_error;
  if (!token_.empty()) {
    token_error = CheckToken(context);
    if (!token_error) {
      caller->everything = true;
      return std::nullopt;
    }
  }
  if (client_certs_) {
    const auto auth_context = context.auth_context();
    caller->certificate = IdentityOf(auth_context.get());
    if (caller->certificate.present) return std::nullopt;
  }
  if (token_error && context.client_metadata().count("authorization") > 0) return token_error;
  return ApiError{grpc::StatusCode::UNAUTHENTICATED, reasons::kMissingCredentials,
                  client_certs_ && !token_.empty()
                      ? "this RPC needs a client certificate or the metadata "
                        "'authorization: Bearer <token>'"
                  : client_certs_ ? "this RPC needs a client certificate"
                                  : "this RPC needs the metadata 'authorization: Bearer <token>'"};
}

std::optional<ApiError> Authenticator::Check(const grpc::ServerContextBase& context) const {
  Caller caller;
  return Authenticate(context, &caller);
}

std::optional<ApiError> Authenticator::CheckAdmin(const grpc::ServerContextBase& context) const {
  Caller caller;
  if (auto e = Authenticate(context, &caller)) return e;
  if (caller.everything || caller.certificate.admin) return std::nullopt;
  return ApiError{grpc::StatusCode::PERMISSION_DENIED, reasons::kNotAnAdminCertificate,
                  "the client certificate does not carry the SAN dcdir://admin"};
}

std::optional<ApiError> Authenticator::CheckMayReport(const Caller& caller,
                                                      const std::string& dc_id) {
  if (caller.everything) return std::nullopt;
  for (const std::string& id : caller.certificate.dc_ids) {
    if (id == dc_id) return std::nullopt;
  }
  return ApiError{grpc::StatusCode::PERMISSION_DENIED, reasons::kDatacenterNotInCertificate,
                  "the client certificate is not issued for this data center"};
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
                        absl::AnyInvocable<std::optional<ApiError>() &&> call) {
  auto run = [call_context, reactor, call = std::move(call)]() mutable {
    // The deadline is checked too: gRPC marks the call cancelled a little after it passes.
    if (call_context->IsCancelled() ||
        std::chrono::system_clock::now() >= call_context->deadline()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                   "the call ended while it waited for the store"));
      return;
    }
    const std::optional<ApiError> error = std::move(call)();
    reactor->Finish(error ? Reply(call_context, *error) : grpc::Status::OK);
  };
  if (context.store_calls->TrySubmit(std::move(run))) return true;
  reactor->Finish(Reply(call_context,
                        ApiError{grpc::StatusCode::UNAVAILABLE, reasons::kStoreUnavailable,
                                 absl::StrCat("too many writes are waiting for the store (",
                                              context.store_calls->backlog(),
                                              "); it is slow or unreachable: retry with "
                                              "backoff")}));
  return false;
}

}  // namespace dcdir::api
