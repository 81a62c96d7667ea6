#include "service/runtime/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/core/tenant_id.h"
#include "service/store/record_codec.h"
#include "service/util/log.h"

namespace dcdir::runtime {
namespace {

constexpr absl::string_view kMagic = "dcdir-snapshot 1";
// A file stamped later than this after the reader's wall clock means the clock stepped.
constexpr absl::Duration kFutureTolerance = absl::Minutes(1);

uint32_t Crc32(absl::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large inputs in pieces.
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("not a snapshot file: ", what));
}

absl::StatusOr<absl::Time> TimeField(absl::string_view line, absl::string_view name) {
  if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) {
    return Bad(absl::StrCat("expected \"", name, " <time>\""));
  }
  absl::StatusOr<absl::Time> t = store::DecodeTime(std::string_view(line.data(), line.size()));
  if (!t.ok()) return Bad(absl::StrCat("bad ", name));
  return *t;
}

std::string ErrnoText(absl::string_view what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace

SavedState SavedStateOf(const core::Snapshot& snapshot, absl::Time written_at) {
  SavedState saved;
  saved.health_time = snapshot.built_at;
  saved.written_at = written_at;
  const core::HealthRecord none;
  for (size_t i = 0; i < snapshot.dcs.size(); ++i) {
    const core::HealthRecord& record = snapshot.dcs[i].record;
    if (record == none) continue;  // never reported (a stored record always has reported_at)
    saved.state.health[snapshot.topology->dc(static_cast<uint32_t>(i)).id] = record;
  }
  if (snapshot.tenants != nullptr) {
    snapshot.tenants->ForEach(
        [&](const core::CompiledTenant& tenant) { saved.state.tenants.push_back(tenant.policy); });
  }
  std::sort(saved.state.tenants.begin(), saved.state.tenants.end(),
            [](const core::TenantPolicy& a, const core::TenantPolicy& b) {
              return a.tenant_id < b.tenant_id;
            });
  return saved;
}

std::string EncodeSavedState(const SavedState& saved) {
  std::string out = absl::StrCat(kMagic, "\nwritten_at ", store::EncodeTime(saved.written_at),
                                 "\nhealth_time ", store::EncodeTime(saved.health_time), "\n");
  // Sorted, so that the same state always gives the same bytes.
  std::vector<std::pair<std::string, core::HealthRecord>> health(saved.state.health.begin(),
                                                                 saved.state.health.end());
  std::sort(health.begin(), health.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, record] : health) {
    absl::StrAppend(&out, "h ", store::EscapeField(id), "|", store::EncodeHealthRecord(record),
                    "\n");
  }
  for (const core::TenantPolicy& policy : saved.state.tenants) {
    absl::StrAppend(&out, "t ", store::EncodeTenantPolicy(policy), "\n");
  }
  absl::StrAppendFormat(&out, "crc32 %08x\n", Crc32(out));
  return out;
}

absl::StatusOr<SavedState> DecodeSavedState(std::string_view text_in) {
  absl::string_view text(text_in.data(), text_in.size());
  if (!absl::ConsumeSuffix(&text, "\n")) return Bad("does not end with a newline (torn write?)");
  const size_t last = text.rfind('\n');
  if (last == absl::string_view::npos) return Bad("no checksum line");
  absl::string_view body = text.substr(0, last + 1);  // everything the checksum covers
  absl::string_view crc_line = text.substr(last + 1);
  uint32_t stored = 0;
  if (!absl::ConsumePrefix(&crc_line, "crc32 ") || crc_line.size() != 8 ||
      !absl::SimpleHexAtoi(crc_line, &stored)) {
    return Bad("the last line is not \"crc32 <8 hex digits>\"");
  }
  if (const uint32_t actual = Crc32(body); actual != stored) {
    return absl::DataLossError(absl::StrFormat(
        "snapshot file is corrupt: checksum %08x, content has %08x", stored, actual));
  }
  std::vector<absl::string_view> lines = absl::StrSplit(body.substr(0, body.size() - 1), '\n');
  if (lines.size() < 3 || lines[0] != kMagic) {
    return Bad(absl::StrCat("the first line is not \"", kMagic, "\" (unknown version?)"));
  }
  SavedState saved;
  absl::StatusOr<absl::Time> written = TimeField(lines[1], "written_at");
  if (!written.ok()) return written.status();
  absl::StatusOr<absl::Time> health_time = TimeField(lines[2], "health_time");
  if (!health_time.ok()) return health_time.status();
  saved.written_at = *written;
  saved.health_time = *health_time;
  for (size_t i = 3; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (absl::ConsumePrefix(&line, "h ")) {
      const size_t bar = line.find('|');
      if (bar == absl::string_view::npos) return Bad(absl::StrCat("line ", i + 1, ": no record"));
      absl::StatusOr<std::string> id = store::UnescapeField(
          std::string_view(line.data(), bar));
      absl::StatusOr<core::HealthRecord> record = store::DecodeHealthRecord(
          std::string_view(line.data() + bar + 1, line.size() - bar - 1));
      if (!id.ok() || id->empty() || !record.ok()) {
        return Bad(absl::StrCat("line ", i + 1, ": bad health record"));
      }
      if (!saved.state.health.emplace(*std::move(id), *record).second) {
        return Bad(absl::StrCat("line ", i + 1, ": duplicate DC"));
      }
    } else if (absl::ConsumePrefix(&line, "t ")) {
      absl::StatusOr<core::TenantPolicy> policy =
          store::DecodeTenantPolicy(std::string_view(line.data(), line.size()));
      // A tenant id no store holds (store.h, "Tenant ids") means a file not written by us.
      if (!policy.ok() || !core::IsValidTenantId(policy->tenant_id)) {
        return Bad(absl::StrCat("line ", i + 1, ": bad tenant policy"));
      }
      saved.state.tenants.push_back(*std::move(policy));
    } else {
      return Bad(absl::StrCat("line ", i + 1, ": unknown item"));
    }
  }
  return saved;
}

absl::Status WriteSavedState(const std::string& path, const SavedState& saved) {
  const std::string content = EncodeSavedState(saved);
  const std::string tmp = absl::StrCat(path, ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(ErrnoText("cannot create", tmp));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status error = absl::InternalError(ErrnoText("cannot write", tmp));
      ::close(fd);
      return error;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status error = absl::InternalError(ErrnoText("cannot fsync", tmp));
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return absl::InternalError(ErrnoText("cannot close", tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(ErrnoText("cannot rename over", path));
  }
  // The rename is durable once the directory is.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<SavedState> ReadSavedState(const std::string& path, absl::Duration max_age,
                                          absl::Time now_wall) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no snapshot file at ", path));
    return absl::NotFoundError(ErrnoText("cannot read the snapshot file", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<SavedState> saved = DecodeSavedState(buffer.str());
  if (!saved.ok()) {
    return absl::Status(saved.status().code(),
                        absl::StrCat(path, ": ", saved.status().message()));
  }
  const absl::Duration age = now_wall - saved->written_at;
  if (age > max_age) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the snapshot file ", path, " is too old: written ", absl::FormatDuration(age),
        " ago, more than --snapshot_max_age=", absl::FormatDuration(max_age)));
  }
  if (age < -kFutureTolerance) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the snapshot file ", path, " was written ", absl::FormatDuration(-age),
        " in the future of this host's clock (a clock step?)"));
  }
  return saved;
}

SnapshotSaver::SnapshotSaver(std::string path, const core::Clock* clock,
                             absl::Duration min_interval, absl::Duration refresh_interval)
    : path_(std::move(path)),
      clock_(clock),
      min_interval_(min_interval),
      refresh_interval_(refresh_interval) {}

SnapshotSaver::~SnapshotSaver() { Stop(); }

void SnapshotSaver::Offer(std::shared_ptr<const core::Snapshot> snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::move(snapshot);
  }
  cv_.notify_one();
}

void SnapshotSaver::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void SnapshotSaver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

uint64_t SnapshotSaver::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

bool SnapshotSaver::Write(const core::Snapshot& snapshot) {
  absl::Status status = WriteSavedState(path_, SavedStateOf(snapshot, clock_->Now()));
  if (status.ok()) {
    if (!last_error_.empty()) DCDIR_LOG(kInfo) << "snapshot file " << path_ << " written again";
    last_error_.clear();
    return true;
  }
  if (std::string error(status.message()); error != last_error_) {
    DCDIR_LOG(kWarning) << "cannot save the snapshot file (a restart while the store is away "
                           "would fail closed): "
                        << error;
    last_error_ = std::move(error);
  }
  return false;
}

void SnapshotSaver::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // What to write: the newest snapshot when it is fresh and either new or due a refresh.
    const absl::Time now = clock_->MonotonicNow();
    const bool fresh = latest_ != nullptr && !latest_->stale;
    const bool changed = fresh && latest_ != written_;
    const bool refresh_due = fresh && now - last_write_ >= refresh_interval_;
    const absl::Time earliest = last_write_ + min_interval_;
    if ((changed || refresh_due) && (now >= earliest || stopping_)) {
      std::shared_ptr<const core::Snapshot> snapshot = latest_;
      lock.unlock();
      const bool ok = Write(*snapshot);
      lock.lock();
      last_write_ = clock_->MonotonicNow();  // also after a failure: retry no faster
      if (ok) {
        written_ = std::move(snapshot);
        ++writes_;
      }
      if (stopping_) return;  // one last attempt only
      continue;
    }
    if (stopping_) return;
    absl::Duration wait = refresh_interval_;
    if (changed) wait = earliest - now;
    cv_.wait_for(lock, absl::ToChronoNanoseconds(std::max(wait, absl::Milliseconds(1))));
  }
}

}  // namespace dcdir::runtime
