#ifndef DCDIR_SERVICE_AUDIT_AUDIT_WRITER_H_
#define DCDIR_SERVICE_AUDIT_AUDIT_WRITER_H_

// Where audit lines go: standard output, an append-only file, or (tests) a string.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dcdir::audit {

class AuditWriter {
 public:
  virtual ~AuditWriter() = default;
  // Writes a batch of complete lines (each ending in '\n') and flushes it. Called only from the
  // audit flusher, never from a request thread.
  virtual absl::Status Write(std::string_view lines) = 0;
};

// Appends to a file opened with O_APPEND, or writes to standard output for "-".
class FileAuditWriter final : public AuditWriter {
 public:
  // "-" is standard output. A file is created if missing and appended to otherwise.
  static absl::StatusOr<std::unique_ptr<FileAuditWriter>> Open(const std::string& path);
  ~FileAuditWriter() override;
  absl::Status Write(std::string_view lines) override;

 private:
  FileAuditWriter(std::FILE* file, bool owned, std::string path)
      : file_(file), owned_(owned), path_(std::move(path)) {}
  std::FILE* const file_;
  const bool owned_;
  const std::string path_;
};

// Keeps every line in memory (tests).
class StringAuditWriter final : public AuditWriter {
 public:
  absl::Status Write(std::string_view lines) override;
  // Everything written so far.
  std::string contents() const;

 private:
  mutable std::mutex mu_;
  std::string contents_;  // guarded by mu_
};

}  // namespace dcdir::audit

#endif  // DCDIR_SERVICE_AUDIT_AUDIT_WRITER_H_
