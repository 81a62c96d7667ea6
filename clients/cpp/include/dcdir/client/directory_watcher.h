#ifndef DCDIR_CLIENT_DIRECTORY_WATCHER_H_
#define DCDIR_CLIENT_DIRECTORY_WATCHER_H_

// Keeps a client's attempt plan current: a background thread holds a WatchDirectory stream open
// (rotating through the directory addresses, reconnecting with jittered backoff) and publishes
// every new answer, pinning applied, to a callback and to Latest(). Good answers also refresh the
// disk cache. Made by DirectoryClient::Watch; the client must outlive the watcher.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/client/directory_client.h"
#include "dcdir/client/types.h"

namespace dcdir::client {

class DirectoryWatcher {
 public:
  using Callback = std::function<void(const absl::StatusOr<Resolution>&)>;
  ~DirectoryWatcher();  // Stops.

  // The newest good resolution, if any.
  std::optional<Resolution> Latest() const;
  // How many good answers were received so far.
  int updates() const;
  // Ends the stream and joins the thread. Idempotent; no callback runs after it returns.
  void Stop();

 private:
  friend class DirectoryClient;
  DirectoryWatcher(DirectoryClient* client, DirectoryRequest request, Callback callback);
  void Start();
  void Run();
  // Waits up to `d` (real time); false when stopped meanwhile.
  bool WaitFor(absl::Duration d);

  DirectoryClient* const client_;
  const DirectoryRequest request_;
  const Callback callback_;
  std::thread thread_;
  mutable std::mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable stopped_cv_;  // notified by Stop
  // Cancels the open stream's call; empty while none is open.
  std::function<void()> cancel_ ABSL_GUARDED_BY(mu_);
  std::optional<Resolution> latest_ ABSL_GUARDED_BY(mu_);
  int updates_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_DIRECTORY_WATCHER_H_
