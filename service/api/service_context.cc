#include "service/api/service_context.h"


namespace dcdir::api {

std::optional<ApiError> Authenticator::Check(const grpc::ServerContextBase& context) const {
  if (token_.empty()) return std::nullopt;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return ApiError{grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS",
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
    return ApiError{grpc::StatusCode::UNAUTHENTICATED, "INVALID_CREDENTIALS",
                    "the bearer token is not valid for this server"};
  }
  return std::nullopt;
}

}  // namespace dcdir::api
