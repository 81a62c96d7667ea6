#ifndef DCDIR_CLIENTS_CLI_CONNECTION_H_
#define DCDIR_CLIENTS_CLI_CONNECTION_H_

// How dcdirctl and dcdir-agent reach the directory: the connection flags they share (--server,
// --token_file, --tls, --tls_ca_file, --tls_cert_file, --tls_key_file), read once into a
// ServerConnection that opens the channel and prepares each call (deadline, bearer token).
//
// The flag names are documented in docs/CLIENTS.md and are never renamed. Each binary lists these
// FlagSpecs in its own table, next to the ones whose help it words for itself (--token_file,
// --tls_cert_file).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cli/args.h"
#include "clients/cli/exit_codes.h"
#include "dcdir/client/tls_options.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"

namespace dcdir::cli {

// The connection flags whose help is the same in every binary.
inline constexpr FlagSpec kServerFlag{
    "server", "HOST:PORT", "",
    "the directory's gRPC address (default: $DCDIR_SERVER when set, else 127.0.0.1:50051)"};
inline constexpr FlagSpec kTlsFlag{"tls", "", "",
                                   "TLS, verifying the server with the system's root certificates"};
inline constexpr FlagSpec kTlsCaFileFlag{"tls_ca_file", "CA.pem", "",
                                         "TLS, verifying the server with this CA (implies --tls)"};
inline constexpr FlagSpec kTlsKeyFileFlag{"tls_key_file", "K.pem", "",
                                          "private key of --tls_cert_file"};

// The directory as the connection flags name it. Built by FromFlags; copyable.
struct ServerConnection {
  // Reads the connection flags of `args` (which must have been parsed with the FlagSpecs above
  // plus "token_file" and "tls_cert_file"): --server, else DefaultServer(); the bearer token of
  // --token_file with surrounding white space trimmed; TLS when --tls, --tls_ca_file or
  // --tls_cert_file is given, with the channel credentials built from the files once.
  // INVALID_ARGUMENT, with a message for the user, when --token_file cannot be read or is empty,
  // or when the TLS files are unusable (see dcdir::client::MakeChannelCredentials, whose
  // NOT_FOUND for an unreadable file comes back as is).
  static absl::StatusOr<ServerConnection> FromFlags(const Args& args);

  // A new channel to `server` with `credentials` (grpc::CreateChannel; connects lazily).
  std::shared_ptr<grpc::Channel> NewChannel() const;

  // Sets the deadline now + `timeout` on `context`, and the "authorization: Bearer <token>"
  // metadata when a token was given.
  void Prepare(grpc::ClientContext& context, absl::Duration timeout) const;
  // Adds only the bearer token (for calls without a deadline, such as a watch stream).
  void AddToken(grpc::ClientContext& context) const;

  std::string server;  // HOST:PORT
  std::string token;   // empty: no --token_file
  dcdir::client::ClientTlsOptions tls;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  Connection connection;  // what the error hints need to know
};

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_CONNECTION_H_
