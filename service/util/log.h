#ifndef DCDIR_SERVICE_UTIL_LOG_H_
#define DCDIR_SERVICE_UTIL_LOG_H_

// Minimal structured logging to stderr (Debian's Abseil 20220623 has no absl/log).
// One line per message: `2026-11-27T20:00:00.000000Z WARN  message`. Never log secrets.
//
//   DCDIR_LOG(kWarning) << "store unreachable: " << status;

#include <sstream>
#include <string_view>

namespace dcdir::util {

enum class LogLevel { kInfo, kWarning, kError };

// Writes one line atomically (a single write(2)).
void WriteLogLine(LogLevel level, std::string_view message);

// Collects a message and writes it when destroyed.
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  LogMessage(const LogMessage&) = delete;
  ~LogMessage() { WriteLogLine(level_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace dcdir::util

#define DCDIR_LOG(level) ::dcdir::util::LogMessage(::dcdir::util::LogLevel::level).stream()

#endif  // DCDIR_SERVICE_UTIL_LOG_H_
