#ifndef DCDIR_CLIENTS_CLI_EXIT_CODES_H_
#define DCDIR_CLIENTS_CLI_EXIT_CODES_H_

// Exit codes shared by dcdirctl and dcdir-agent (documented in docs/CLIENTS.md), and the one-line
// error messages with a hint on what to do.

#include <string>

#include "absl/status/status.h"

namespace dcdir::cli {

inline constexpr int kExitOk = 0;
// Bad command line: unknown command or flag, missing or malformed value.
inline constexpr int kExitUsage = 1;
// The server rejected the request: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ...
inline constexpr int kExitRejected = 2;
// Try again later: the server is unreachable, or UNAVAILABLE / DEADLINE_EXCEEDED /
// RESOURCE_EXHAUSTED (e.g. no healthy compliant DC).
inline constexpr int kExitUnavailable = 3;
// Credentials: UNAUTHENTICATED or PERMISSION_DENIED.
inline constexpr int kExitAuth = 4;

// The exit code for a failed RPC.
int ExitCodeFor(const absl::Status& status);

// "CODE (REASON): message" plus, on a second line, "hint: ..." when we know what helps.
std::string DescribeError(const absl::Status& status, const std::string& server);

// The hint for a status ("" when none).
std::string HintFor(const absl::Status& status, const std::string& server);

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_EXIT_CODES_H_
