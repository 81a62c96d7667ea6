#ifndef DCDIR_CLIENTS_CPP_RTT_STORE_H_
#define DCDIR_CLIENTS_CPP_RTT_STORE_H_

// The round trips a client measured to DCs, kept beside its last-known-good directory cache and
// sent as GetDirectoryRequest.observed_rtts, so the directory ranks by what this client really
// sees. Bounded: at most `max_entries` DCs (the most recently measured win) and nothing older
// than `max_age` is kept or sent. Persisted (atomically: temp file + rename) in the cache
// directory when there is one, so a restarted app still knows its RTTs.

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dcdir/client/types.h"

namespace dcdir::client {

class RttStore {
 public:
  // `cache_dir` empty: memory only. Loads what the directory holds (an unreadable file is
  // treated as empty).
  RttStore(std::string cache_dir, RttOptions options);

  // Remembers a measurement (replacing the DC's previous one) and saves the store; returns the
  // save's error, if any (the measurement is kept in memory either way).
  absl::Status Record(const std::string& datacenter_id, absl::Duration rtt, absl::Time measured_at);

  // Measurements no older than max_age at `now`, most recent first, at most max_entries.
  std::vector<MeasuredRtt> Fresh(absl::Time now) const;

  // Adds Fresh(now) to `request` as observed_rtts with their age (now - measured_at, 0 after a
  // clock step backwards), unless the request already carries some (the caller's own win).
  void AddTo(DirectoryRequest* request, absl::Time now) const;

  // The file that holds the store ("" without a cache directory).
  std::string path() const { return path_; }

 private:
  absl::Status SaveLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const RttOptions options_;
  mutable std::mutex mu_;
  std::vector<MeasuredRtt> entries_ ABSL_GUARDED_BY(mu_);  // most recent first
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENTS_CPP_RTT_STORE_H_
