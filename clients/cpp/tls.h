#ifndef DCDIR_CLIENTS_CPP_TLS_H_
#define DCDIR_CLIENTS_CPP_TLS_H_

// Channel credentials from ClientTlsOptions. Used by the library (ClientOptions::tls) and by
// dcdirctl / dcdir-agent, which open their own channels; not installed.

#include <memory>

#include "absl/status/statusor.h"
#include "dcdir/client/tls_options.h"
#include "grpcpp/security/credentials.h"

namespace dcdir::client {

// Reads the files once. INVALID_ARGUMENT when only one of cert_file/key_file is given, a file
// is empty, or a file lacks its PEM block (ca_file and cert_file: "-----BEGIN CERTIFICATE-----",
// key_file: "... PRIVATE KEY-----", so a certificate given as the key is caught here), the key
// cannot be loaded (or is encrypted), or the key does not match the first certificate of
// cert_file ("the TLS key file K does not match the certificate in the TLS certificate file C",
// OpenSSL's X509_check_private_key); NOT_FOUND when a file cannot be read; errors name the file,
// never its contents.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_TLS_H_
