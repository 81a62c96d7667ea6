#ifndef DCDIR_SERVICE_RUNTIME_SNAPSHOT_FILE_H_
#define DCDIR_SERVICE_RUNTIME_SNAPSHOT_FILE_H_

// A replica's last fresh store state on its local disk (`dcdir-server --snapshot_file`), so
// that a replica that restarts while the store is unreachable serves it, marked stale, instead
// of failing every client closed (docs/REDIS.md, "Restart while the store is away").
//
// Only store state is saved: the health records and tenant policies of the last fresh
// snapshot and the health time it was judged at. Compliance (topology, deny rules) always
// comes from the config the replica runs with, never from the file.
//
// File format (text, one item per line, values in the store's record codec,
// service/store/record_codec.h):
//
//   dcdir-snapshot 1
//   written_at <unix microseconds, wall clock of the writing host>
//   health_time <unix microseconds on the store's timeline: what health is judged at>
//   h <DC id, percent-escaped>|<health record, e.g. h1|1|0.25|0|...>     (one per record)
//   t <tenant policy, e.g. t1|acme|eu|eu,uk|...>                          (one per policy)
//   crc32 <8 lower-case hex digits: zlib's CRC-32 of every byte before this line>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/clock.h"
#include "service/core/snapshot.h"
#include "service/store/store.h"

namespace dcdir::runtime {

struct SavedState {
  store::StoreState state;  // health records (topology DCs only) and tenant policies
  absl::Time health_time;   // the snapshot's built_at (the store's timeline)
  absl::Time written_at;    // wall clock of the host that wrote the file
};

// The store state a fresh snapshot was built from: its DCs' records (DCs without a record are
// left out) and its tenant policies (sorted by id), judged at snapshot.built_at.
SavedState SavedStateOf(const core::Snapshot& snapshot, absl::Time written_at);

std::string EncodeSavedState(const SavedState& saved);
// INVALID_ARGUMENT for anything that is not exactly the format above (unknown version, bad
// line, bad record, missing or extra checksum line), DATA_LOSS when the checksum does not
// match (a torn or corrupted file).
absl::StatusOr<SavedState> DecodeSavedState(std::string_view text);

// Writes `saved` to `path` atomically: PATH.tmp, fsync, rename over PATH, fsync of the
// directory. A reader sees the old file or the new one, never a mix. INTERNAL on an I/O error
// (with errno's text).
absl::Status WriteSavedState(const std::string& path, const SavedState& saved);

// Reads `path` and accepts it only when it decodes and was written at most `max_age` before
// `now_wall` (this host's wall clock): NOT_FOUND (no file), INVALID_ARGUMENT / DATA_LOSS (see
// DecodeSavedState), FAILED_PRECONDITION (too old, or written more than a minute after
// `now_wall`: a clock step). The message says which, for the log line.
absl::StatusOr<SavedState> ReadSavedState(const std::string& path, absl::Duration max_age,
                                          absl::Time now_wall);

// Keeps the snapshot file in step with the published snapshots, off the publishing thread:
// Offer() only keeps the newest snapshot; a writer thread writes the newest fresh (not stale)
// one at most once per `min_interval`, and rewrites it at least every `refresh_interval` while
// the served snapshot is fresh (so that the file's age says how long ago the state was known
// good, not when it last changed). A failed write is logged (once per kind of error) and
// retried with the next snapshot.
class SnapshotSaver {
 public:
  // `clock` (wall time of each write) must outlive the saver.
  SnapshotSaver(std::string path, const core::Clock* clock,
                absl::Duration min_interval = absl::Seconds(1),
                absl::Duration refresh_interval = absl::Minutes(1));
  ~SnapshotSaver();  // Stop()
  SnapshotSaver(const SnapshotSaver&) = delete;
  SnapshotSaver& operator=(const SnapshotSaver&) = delete;

  // Cheap, never blocks on I/O: safe inside DirectoryState's snapshot listeners.
  void Offer(std::shared_ptr<const core::Snapshot> snapshot);
  void Start();
  // Writes the newest fresh snapshot if it was not written yet, then stops. Idempotent.
  void Stop();
  // Files written so far.
  uint64_t writes() const;

 private:
  void Run();
  // Writes `snapshot` (no lock held); true on success.
  bool Write(const core::Snapshot& snapshot);

  const std::string path_;
  const core::Clock* const clock_;
  const absl::Duration min_interval_;
  const absl::Duration refresh_interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const core::Snapshot> latest_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const core::Snapshot> written_ ABSL_GUARDED_BY(mu_);
  absl::Time last_write_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // MonotonicNow()
  uint64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_;  // writer thread only
  std::thread thread_;
};

}  // namespace dcdir::runtime

#endif  // DCDIR_SERVICE_RUNTIME_SNAPSHOT_FILE_H_
