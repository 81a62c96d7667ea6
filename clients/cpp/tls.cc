#include "clients/cpp/tls.h"

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

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

// Never prompts for a passphrase (OpenSSL's default callback reads the terminal): an encrypted
// key fails to load, as it would in gRPC, which takes unencrypted keys only.
int NoPassphrase(char*, int, int, void*) { return -1; }

// INVALID_ARGUMENT naming both files unless the first certificate of `cert_pem` (the leaf)
// carries the public half of the private key `key_pem` (OpenSSL's X509_check_private_key): a
// mismatched pair is a usage error here, not a failed handshake that looks like a network fault.
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
        absl::StrCat("the TLS certificate file ", cert_file, " holds no readable PEM certificate"));
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS key file ", key_file, " holds no readable unencrypted PEM private key"));
  }
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS key file ", key_file,
                                                   " does not match the certificate in the TLS "
                                                   "certificate file ",
                                                   cert_file));
  }
  return absl::OkStatus();
}

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
    if (absl::Status s =
            CheckKeyMatchesCertificate(*cert, options.cert_file, *key, options.key_file);
        !s.ok()) {
      return s;
    }
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace dcdir::client
