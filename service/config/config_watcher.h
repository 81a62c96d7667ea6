#ifndef DCDIR_SERVICE_CONFIG_CONFIG_WATCHER_H_
#define DCDIR_SERVICE_CONFIG_CONFIG_WATCHER_H_

// Reloads the world file when its content changes and has settled, by polling.
//
// Polling re-opens the path every time and compares content hashes (not mtimes or inodes), so
// it follows Kubernetes ConfigMap updates, which swap a `..data` symlink atomically, as well as
// editors that replace the file by renaming.
//
// Settle: a changed content is handed on only once the same content has been read on two polls
// in a row, so a file that is still being written in place (`> world.yaml` by a slow writer) is
// not applied while it changes. A writer that stalls for longer than a poll interval can still
// leave a valid prefix that reads the same twice; that prefix is what the compliance ratchet
// (DcdirServer::ApplyConfig) stops when it loosens compliance (deny rules come last in our
// files, so a prefix lacks them).
//
// Special files: the path is opened without blocking and only a regular file is read (a FIFO
// never hangs the poller or the shutdown that joins it).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::config {

class ConfigWatcher {
 public:
  // Called with the newly loaded world, compiled (ParseTopology), or with the error of a bad new
  // file (the caller keeps serving its current world and logs the error). Called from
  // CheckNow's thread; never concurrently with itself.
  using OnChange = std::function<void(absl::StatusOr<std::shared_ptr<const core::Topology>>)>;

  // `path`: the config file. `served_version`: ContentVersion() of the config currently served
  // (World::version), so an unchanged file is not reported.
  ConfigWatcher(std::string path, std::string served_version, OnChange on_change);
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;
  // Stops the polling thread, if any.
  ~ConfigWatcher();

  // Re-reads the file now. Returns true and calls on_change when its content (or readability)
  // differs from the last content handed on and this read saw the same content as the
  // previous one (settled); a bad file is thus reported once per distinct bad content, not on
  // every poll. Returns false otherwise (unchanged, or changed but not settled yet).
  bool CheckNow();

  // Starts a background thread calling CheckNow every `interval`. At most once.
  void Start(absl::Duration interval);

  // Stops and joins the background thread. Idempotent.
  void Stop();

  // The content version last seen (served, or the last bad content reported).
  std::string last_seen_version() const;

 private:
  void Run(absl::Duration interval);

  const std::string path_;
  const OnChange on_change_;

  mutable std::mutex check_mu_;  // serialises CheckNow
  std::string last_seen_ ABSL_GUARDED_BY(check_mu_);
  // A changed content read once, waiting for a second identical read ("" when none).
  std::string candidate_ ABSL_GUARDED_BY(check_mu_);

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;  // touched only by Start/Stop (owner's thread)
};

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_CONFIG_WATCHER_H_
