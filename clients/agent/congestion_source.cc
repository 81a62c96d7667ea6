#include "clients/agent/congestion_source.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace dcdir::agent {

absl::StatusOr<double> ParseCongestion(const std::string& text, const std::string& source) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  double value;
  if (!absl::SimpleAtod(trimmed, &value) || std::isnan(value) || value < 0 || value > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, " must hold a congestion figure in [0, 1]; got \"", trimmed.substr(0, 40), "\""));
  }
  return value;
}

absl::StatusOr<double> ReadCongestionFile(const std::string& path, const std::string& dc_id) {
  const std::string file = absl::StrReplaceAll(path, {{"{dc}", dc_id}});
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the congestion file ", file));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseCongestion(buffer.str(), absl::StrCat("the congestion file ", file));
}

absl::StatusOr<double> RunCongestionCommand(const std::string& command,
                                            const std::string& dc_id) {
  const std::string cmd = absl::StrReplaceAll(command, {{"{dc}", dc_id}});
  ::setenv("DCDIR_DC", dc_id.c_str(), 1);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot run the congestion command: ", cmd));
  }
  std::string output;
  char buf[256];
  while (output.size() < 4096) {
    size_t n = std::fread(buf, 1, sizeof(buf), pipe);
    if (n == 0) break;
    output.append(buf, n);
  }
  const int rc = ::pclose(pipe);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return absl::UnavailableError(absl::StrCat("the congestion command `", cmd, "` failed (",
                                               WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ")"));
  }
  return ParseCongestion(output, absl::StrCat("the output of `", cmd, "`"));
}

}  // namespace dcdir::agent
