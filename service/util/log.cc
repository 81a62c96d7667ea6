#include "service/util/log.h"

#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dcdir::util {

void WriteLogLine(LogLevel level, std::string_view message) {
  const char* tag = level == LogLevel::kInfo ? "INFO " : level == LogLevel::kWarning ? "WARN " : "ERROR";
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  line.append(" ").append(tag).append(" ").append(message).append("\n");
  // One write so that concurrent lines do not interleave.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace dcdir::util
