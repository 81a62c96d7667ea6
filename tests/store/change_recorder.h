#ifndef DCDIR_TESTS_STORE_CHANGE_RECORDER_H_
#define DCDIR_TESTS_STORE_CHANGE_RECORDER_H_

// Test helper: a thread-safe recorder of store changes (bounded waits: tests/testing/poll.h).

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "service/store/store.h"
#include "tests/testing/poll.h"

namespace dcdir::store {

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
    return dcdir::testing::PollUntil([&] { return Count(kind, id) >= n; }, timeout).has_value();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::store

#endif  // DCDIR_TESTS_STORE_CHANGE_RECORDER_H_
