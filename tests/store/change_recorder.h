#ifndef DCDIR_TESTS_STORE_CHANGE_RECORDER_H_
#define DCDIR_TESTS_STORE_CHANGE_RECORDER_H_

// Test helpers: a thread-safe recorder of store changes and a bounded poll.

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/store/store.h"

namespace dcdir::store {

// Polls `done` every 5 ms until it is true (returns true) or `timeout` passed (returns false).
// A bound on waiting for another thread or process, never a timing assertion.
inline bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// Collects the changes delivered to a store's listener.
class ChangeRecorder {
 public:
  std::function<void(const Change&)> Listener() {
    return [this](const Change& c) {
      std::lock_guard<std::mutex> lock(mu_);
      changes_.push_back(c);
    };
  }
  size_t Count(Change::Kind kind, const std::string& id = "") const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Change& c : changes_) n += c.kind == kind && (kind == Change::Kind::kResync || c.id == id);
    return n;
  }
  // Waits (bounded) until at least `n` changes of `kind` (and `id`) were seen.
  bool WaitFor(Change::Kind kind, const std::string& id, size_t n = 1,
               absl::Duration timeout = absl::Seconds(5)) const {
    return WaitUntil([&] { return Count(kind, id) >= n; }, timeout);
  }

 private:
  mutable std::mutex mu_;
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::store

#endif  // DCDIR_TESTS_STORE_CHANGE_RECORDER_H_
