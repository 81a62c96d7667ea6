#include "service/api/tls.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

namespace dcdir::api {
namespace {

constexpr char kDcUriPrefix[] = "dcdir://dc/";
constexpr char kDcDnsSuffix[] = ".dc.dcdir";
constexpr char kAdminUri[] = "dcdir://admin";

// The file's contents when it holds `marker`; NOT_FOUND when unreadable, INVALID_ARGUMENT when
// the marker is missing (the message names the file, never its contents).
absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* what,
                                        const char* marker) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().find(marker) == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " file ", path, " holds no PEM ", what));
  }
  return buffer.str();
}

// Never prompts for a passphrase (OpenSSL's default callback reads the terminal): an encrypted
// key fails to load, as it would in gRPC, which takes unencrypted keys only.
int NoPassphrase(char*, int, int, void*) { return -1; }

// OK when the first certificate of `cert_pem` (the leaf of the chain) carries the public half
// of the private key `key_pem` (OpenSSL's X509_check_private_key); INVALID_ARGUMENT naming both
// flags and files otherwise. Without this check gRPC starts and fails every handshake.
absl::Status CheckKeyMatchesCertificate(const std::string& cert_pem, const std::string& cert_file,
                                        const std::string& key_pem, const std::string& key_file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
  if (cert_bio == nullptr || key_bio == nullptr) return absl::ResourceExhaustedError("BIO_new");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, &NoPassphrase, nullptr), &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &NoPassphrase, nullptr), &EVP_PKEY_free);
  const bool matches = cert != nullptr && key != nullptr &&
                       X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();  // leave no error of ours on this thread's queue for gRPC to find
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file ", cert_file, " holds no readable PEM certificate"));
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file ", key_file, " holds no readable unencrypted PEM private key"));
  }
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat("--tls_key_file ", key_file,
                                                   " does not match the certificate in "
                                                   "--tls_cert_file ",
                                                   cert_file));
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
  auto cert = ReadPemFile(files.cert_file, "certificate", "-----BEGIN CERTIFICATE-----");
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile(files.key_file, "private key", "PRIVATE KEY-----");
  if (!key.ok()) return key.status();
  if (auto s = CheckKeyMatchesCertificate(*cert, files.cert_file, *key, files.key_file); !s.ok()) {
    return s;
  }
  if (files.require_client_cert && files.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_require_client_cert needs --tls_client_ca_file (the CA that signs the clients' "
        "certificates)");
  }
  if (!files.client_ca_file.empty()) {
    if (auto ca = ReadPemFile(files.client_ca_file, "client CA", "-----BEGIN CERTIFICATE-----");
        !ca.ok()) {
      return ca.status();
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
