#include "service/config/config_watcher.h"

#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/config/config_loader.h"

namespace dcdir::config {

ConfigWatcher::ConfigWatcher(std::string path, std::string served_version, OnChange on_change)
    : path_(std::move(path)), on_change_(std::move(on_change)),
      last_seen_(std::move(served_version)) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

bool ConfigWatcher::CheckNow() {
  std::lock_guard<std::mutex> lock(check_mu_);
  absl::StatusOr<std::string> content = ReadConfigFile(path_);
  // An unreadable file is a state of its own: reported once, until it changes again.
  std::string seen = content.ok() ? ContentVersion(*content)
                                  : absl::StrCat("unreadable:", content.status().ToString());
  if (seen == last_seen_) {
    candidate_.clear();
    return false;
  }
  if (seen != candidate_) {
    candidate_ = std::move(seen);  // first read of this content: wait until it has settled
    return false;
  }
  candidate_.clear();
  last_seen_ = std::move(seen);
  if (!content.ok()) {
    on_change_(content.status());
  } else {
    on_change_(ParseTopology(*content, path_));
  }
  return true;
}

void ConfigWatcher::Start(absl::Duration interval) {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, interval] { Run(interval); });
}

void ConfigWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ConfigWatcher::last_seen_version() const {
  std::lock_guard<std::mutex> lock(check_mu_);
  return last_seen_;
}

void ConfigWatcher::Run(absl::Duration interval) {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(stop_mu_);
      // Wakes at once on Stop(), else after `interval`.
      stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(interval), [this] { return stopping_; });
      if (stopping_) return;
    }
    CheckNow();
  }
}

}  // namespace dcdir::config
