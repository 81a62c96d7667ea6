#ifndef DCDIR_CLIENTS_CPP_TLS_H_
#define DCDIR_CLIENTS_CPP_TLS_H_

// Channel credentials for a dcdir server behind TLS (optionally with a client certificate for
// mTLS). Pass the result to DefaultStubFactory or grpc::CreateChannel.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace dcdir::client {

struct ClientTlsOptions {
  bool enabled = false;     // false: plaintext (insecure credentials)
  std::string ca_file;      // PEM roots that sign the server certificate; empty: system roots
  std::string cert_file;    // PEM client certificate chain (mTLS); needs key_file
  std::string key_file;     // PEM client private key
};

// Reads the files once. Errors name the file, never its contents.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_TLS_H_
