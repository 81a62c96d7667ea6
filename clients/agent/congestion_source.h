#ifndef DCDIR_CLIENTS_AGENT_CONGESTION_SOURCE_H_
#define DCDIR_CLIENTS_AGENT_CONGESTION_SOURCE_H_

// Where the agent reads a DC's congestion: a file holding a number, or a command that prints
// one. "{dc}" in the path or command is replaced by the DC id; the command also gets DCDIR_DC.

#include <string>

#include "absl/status/statusor.h"

namespace dcdir::agent {

// The number in [0, 1] in `path` (white space ignored).
absl::StatusOr<double> ReadCongestionFile(const std::string& path, const std::string& dc_id);

// Runs `command` with /bin/sh; it must exit 0 and print a number in [0, 1].
absl::StatusOr<double> RunCongestionCommand(const std::string& command, const std::string& dc_id);

// Parses a congestion figure: a number in [0, 1].
absl::StatusOr<double> ParseCongestion(const std::string& text, const std::string& source);

}  // namespace dcdir::agent

#endif  // DCDIR_CLIENTS_AGENT_CONGESTION_SOURCE_H_
