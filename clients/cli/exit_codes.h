#ifndef DCDIR_CLIENTS_CLI_EXIT_CODES_H_
#define DCDIR_CLIENTS_CLI_EXIT_CODES_H_

// Exit codes shared by dcdirctl and dcdir-agent (documented in docs/CLIENTS.md), and the one-line
// error messages with a hint on what to do.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dcdir::cli {

inline constexpr int kExitOk = 0;
// Bad command line: unknown command or flag, missing or malformed value.
inline constexpr int kExitUsage = 1;
// The server rejected the request: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ...
inline constexpr int kExitRejected = 2;
// Try again later: the server is unreachable (or the TLS handshake failed), or UNAVAILABLE /
// DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED (e.g. no healthy compliant DC).
inline constexpr int kExitUnavailable = 3;
// Credentials: UNAUTHENTICATED or PERMISSION_DENIED.
inline constexpr int kExitAuth = 4;

// How the tool talked to the server, so that a hint can name what to change.
struct Connection {
  std::string server;        // HOST:PORT
  bool tls = false;          // --tls / --tls_ca_file / --tls_cert_file
  bool token = false;        // --token_file given
  bool client_cert = false;  // --tls_cert_file given
  // The flag that sets each call's deadline ("--timeout" in dcdirctl, "--rpc_timeout" in
  // dcdir-agent) and its value, named by the DEADLINE_EXCEEDED hint; empty: the hint names none.
  std::string timeout_flag;
  absl::Duration timeout = absl::ZeroDuration();
};

// The exit code for a failed RPC.
int ExitCodeFor(const absl::Status& status);

// "CODE (REASON): message" plus, on a second line, "hint: ..." when we know what helps.
std::string DescribeError(const absl::Status& status, const Connection& connection);

// The hint for a status ("" when none): the cause as far as the client can tell it (a TLS
// handshake failure, which credential the server wants, which certificate SAN is missing, ...).
// UNAVAILABLE without a reason token (nothing answered: connection refused, unknown host) asks
// whether the server runs at that address; DEADLINE_EXCEEDED without one says that no answer
// came within the deadline and names the flag that sets it (Connection::timeout_flag).
std::string HintFor(const absl::Status& status, const Connection& connection);

// Silences gRPC's own log lines on stderr (e.g. the raw handshake error), which the tools turn
// into their own message and hint, unless GRPC_VERBOSITY is set (then gRPC logs as it says).
void QuietGrpcLogs();

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_EXIT_CODES_H_
