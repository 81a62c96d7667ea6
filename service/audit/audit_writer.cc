#include "service/audit/audit_writer.h"

#include <cerrno>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace dcdir::audit {

absl::StatusOr<std::unique_ptr<FileAuditWriter>> FileAuditWriter::Open(const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<FileAuditWriter>(new FileAuditWriter(stdout, false, "-"));
  }
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot open the audit log ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<FileAuditWriter>(new FileAuditWriter(file, true, path));
}

FileAuditWriter::~FileAuditWriter() {
  if (owned_) std::fclose(file_);
}

absl::Status FileAuditWriter::Write(std::string_view lines) {
  if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() ||
      std::fflush(file_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot write the audit log ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status StringAuditWriter::Write(std::string_view lines) {
  std::lock_guard<std::mutex> lock(mu_);
  contents_.append(lines);
  return absl::OkStatus();
}

std::string StringAuditWriter::contents() const {
  std::lock_guard<std::mutex> lock(mu_);
  return contents_;
}

}  // namespace dcdir::audit
