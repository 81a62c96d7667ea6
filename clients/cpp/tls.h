#ifndef DCDIR_CLIENTS_CPP_TLS_H_
#define DCDIR_CLIENTS_CPP_TLS_H_

// Channel credentials from ClientTlsOptions. Used by the library (ClientOptions::tls) and by
// dcdirctl / dcdir-agent, which open their own channels; not installed.

#include <memory>

#include "absl/status/statusor.h"
#include "dcdir/client/tls_options.h"
#include "grpcpp/security/credentials.h"

namespace dcdir::client {

// Reads the files once. INVALID_ARGUMENT when only one of cert_file/key_file is given or a file
// is empty, NOT_FOUND when a file cannot be read; errors name the file, never its contents.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& options);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_TLS_H_
