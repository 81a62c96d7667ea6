#ifndef DCDIR_TESTS_TESTING_NOTIFICATION_H_
#define DCDIR_TESTS_TESTING_NOTIFICATION_H_

#include <condition_variable>
#include <mutex>

namespace dcdir::testing {

// absl::Notification's interface on std::mutex, which ThreadSanitizer can see (Debian's Abseil
// is not built with TSan instrumentation).
class Notification {
 public:
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      notified_ = true;
    }
    cv_.notify_all();
  }
  bool HasBeenNotified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }
  void WaitForNotification() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_NOTIFICATION_H_
