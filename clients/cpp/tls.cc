#include "clients/cpp/tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace dcdir::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the TLS ", what, " file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS ", what, " file ", path, " is empty"));
  }
  return buffer.str();
}

// INVALID_ARGUMENT naming the file when `pem` has no `marker` line: a certificate given as the
// key (or the other way round) is caught here, not as a failed handshake that looks like a
// network fault. The contents are never quoted (a key may be in it).
absl::Status CheckPem(const std::string& pem, const std::string& path, const char* what,
                      const char* marker, const char* expected) {
  if (pem.find(marker) != std::string::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the TLS ", what, " file ", path, " holds no PEM ", expected));
}

constexpr char kCertificateMarker[] = "-----BEGIN CERTIFICATE-----";

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options) {
  if (!options.enabled) return grpc::InsecureChannelCredentials();
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("a TLS client certificate needs both its cert and key file");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    auto ca = ReadFile(options.ca_file, "CA");
    if (!ca.ok()) return ca.status();
    if (absl::Status s = CheckPem(*ca, options.ca_file, "CA", kCertificateMarker,
                                  "certificate (-----BEGIN CERTIFICATE-----)");
        !s.ok()) {
      return s;
    }
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.cert_file.empty()) {
    auto cert = ReadFile(options.cert_file, "certificate");
    if (!cert.ok()) return cert.status();
    if (absl::Status s = CheckPem(*cert, options.cert_file, "certificate", kCertificateMarker,
                                  "certificate (-----BEGIN CERTIFICATE-----)");
        !s.ok()) {
      return s;
    }
    auto key = ReadFile(options.key_file, "key");
    if (!key.ok()) return key.status();
    // "PRIVATE KEY-----" ends PKCS#8 and the older RSA / EC forms alike.
    if (absl::Status s = CheckPem(*key, options.key_file, "key", "PRIVATE KEY-----",
                                  "private key (-----BEGIN ... PRIVATE KEY-----); is it the "
                                  "certificate?");
        !s.ok()) {
      return s;
    }
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace dcdir::client
