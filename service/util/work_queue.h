#ifndef DCDIR_SERVICE_UTIL_WORK_QUEUE_H_
#define DCDIR_SERVICE_UTIL_WORK_QUEUE_H_

// A fixed set of threads running submitted tasks in submission order, with a bounded backlog.
// For work that blocks (store round trips) and must not run on gRPC's callback threads: those
// threads also serve GetDirectory, and a handler that waits on a slow store stalls every answer
// behind it (docs/REDIS.md, "Faults": a 300 ms store link).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace dcdir::util {

class WorkQueue {
 public:
  // Starts `threads` (>= 1) worker threads; at most `max_backlog` (>= 1) tasks wait to start.
  WorkQueue(int threads, size_t max_backlog);
  // Stop().
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `task`; false (and `task` is dropped, not run) when `max_backlog` tasks are already
  // waiting or after Stop() began. A task runs on one of the worker threads, never inline.
  bool TrySubmit(absl::AnyInvocable<void() &&> task);

  // Runs every task already queued, then joins the threads. Idempotent.
  void Stop();

  // Tasks waiting to start (not counting the ones running).
  size_t backlog() const;

 private:
  void Run();

  const size_t max_backlog_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_;  // guarded by mu_
  bool stopping_ = false;                             // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace dcdir::util

#endif  // DCDIR_SERVICE_UTIL_WORK_QUEUE_H_
