#ifndef DCDIR_TESTS_TESTING_FLAKY_STORE_H_
#define DCDIR_TESTS_TESTING_FLAKY_STORE_H_

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "service/store/in_memory_store.h"

namespace dcdir::testing {

// An in-memory store that can be made unreachable: every call then answers UNAVAILABLE and
// Available() is false. For the server's degraded-mode tests (the Redis store has its own,
// against a real redis-server). It can also hold writes: while held, every write waits (as on a
// store that does not answer) until they are released.
class FlakyStore final : public store::Store {
 public:
  void set_available(bool available) { available_ = available; }
  void HoldWrites(bool hold) {
    {
      std::lock_guard<std::mutex> lock(hold_mu_);
      hold_ = hold;
    }
    hold_cv_.notify_all();
  }
  // Writes waiting in HoldWrites(true) now.
  int held_writes() const {
    std::lock_guard<std::mutex> lock(hold_mu_);
    return held_;
  }

  absl::StatusOr<store::StoreState> LoadAll() override {
    if (!available_) return Down();
    return inner_.LoadAll();
  }
  absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view id) override {
    if (!available_) return Down();
    return inner_.GetHealth(id);
  }
  absl::Status PutHealth(std::string_view id, const core::HealthRecord& r) override {
    WaitWhileHeld();
    if (!available_) return Down();
    return inner_.PutHealth(id, r);
  }
  absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(std::string_view id) override {
    if (!available_) return Down();
    return inner_.GetTenant(id);
  }
  absl::Status PutTenant(const core::TenantPolicy& p) override {
    WaitWhileHeld();
    if (!available_) return Down();
    return inner_.PutTenant(p);
  }
  absl::StatusOr<bool> DeleteTenant(std::string_view id) override {
    WaitWhileHeld();
    if (!available_) return Down();
    return inner_.DeleteTenant(id);
  }
  void SetChangeListener(std::function<void(const store::Change&)> listener) override {
    inner_.SetChangeListener(std::move(listener));
  }
  bool Available() const override { return available_; }

 private:
  static absl::Status Down() { return absl::UnavailableError("test store is down"); }
  void WaitWhileHeld() {
    std::unique_lock<std::mutex> lock(hold_mu_);
    ++held_;
    hold_cv_.wait(lock, [this] { return !hold_; });
    --held_;
  }
  mutable std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;  // guarded by hold_mu_
  int held_ = 0;       // guarded by hold_mu_
  store::InMemoryStore inner_;
  std::atomic<bool> available_{true};
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_FLAKY_STORE_H_
