#include "service/api/tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace dcdir::api {
namespace {

constexpr char kDcUriPrefix[] = "dcdir://dc/";
constexpr char kDcDnsSuffix[] = ".dc.dcdir";
constexpr char kAdminUri[] = "dcdir://admin";

absl::Status CheckPemFile(const std::string& path, const char* what, const char* marker) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().find(marker) == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " file ", path, " holds no PEM ", what));
  }
  return absl::OkStatus();
}

bool ValidDcId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerTlsCredentials(
    const ServerTlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert_file and --tls_key_file");
  }
  if (auto s = CheckPemFile(files.cert_file, "certificate", "-----BEGIN CERTIFICATE-----");
      !s.ok()) {
    return s;
  }
  if (auto s = CheckPemFile(files.key_file, "private key", "PRIVATE KEY-----"); !s.ok()) return s;
  if (files.require_client_cert && files.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_require_client_cert needs --tls_client_ca_file (the CA that signs the clients' "
        "certificates)");
  }
  if (!files.client_ca_file.empty()) {
    if (auto s =
            CheckPemFile(files.client_ca_file, "client CA", "-----BEGIN CERTIFICATE-----");
        !s.ok()) {
      return s;
    }
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.client_ca_file,
      files.refresh_seconds == 0 ? 1 : files.refresh_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!files.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(files.require_client_cert
                                      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  auto credentials = grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) return absl::InternalError("cannot create TLS server credentials");
  return credentials;
}

std::string DcIdFromSan(const std::string& san) {
  std::string_view v(san);
  if (v.starts_with(kDcUriPrefix)) {
    v.remove_prefix(sizeof(kDcUriPrefix) - 1);
  } else if (v.ends_with(kDcDnsSuffix)) {
    v.remove_suffix(sizeof(kDcDnsSuffix) - 1);
  } else {
    return "";
  }
  return ValidDcId(v) ? std::string(v) : "";
}

CertificateIdentity IdentityOf(const grpc::AuthContext* auth_context) {
  CertificateIdentity identity;
  if (auth_context == nullptr) return identity;
  // Only a TLS peer whose certificate passed verification has x509 properties.
  if (auth_context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME).empty() &&
      auth_context->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME).empty() &&
      auth_context->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME).empty()) {
    return identity;
  }
  identity.present = true;
  for (const char* property : {GRPC_X509_SAN_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME,
                               GRPC_PEER_DNS_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth_context->FindPropertyValues(property)) {
      const std::string san(value.data(), value.size());
      if (san == kAdminUri) identity.admin = true;
      std::string dc = DcIdFromSan(san);
      if (dc.empty()) continue;
      bool seen = false;
      for (const auto& d : identity.dc_ids) seen = seen || d == dc;
      if (!seen) identity.dc_ids.push_back(std::move(dc));
    }
  }
  return identity;
}

}  // namespace dcdir::api
