#include "clients/cpp/rtt_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dcdir::client {
namespace {

constexpr char kMagic[] = "dcdir-rtt-cache v1 (id rtt_ns measured_at_unix_ms)";

}  // namespace

RttStore::RttStore(std::string cache_dir, RttOptions options)
    : path_(cache_dir.empty() ? "" : absl::StrCat(cache_dir, "/dcdir-rtts.cache")),
      options_(options) {
  if (path_.empty()) return;
  std::ifstream in(path_);
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return;
  while (std::getline(in, line)) {
    const std::vector<std::string> parts = absl::StrSplit(line, ' ');
    int64_t nanos = 0, millis = 0;
    if (parts.size() != 3 || parts[0].empty() || !absl::SimpleAtoi(parts[1], &nanos) ||
        !absl::SimpleAtoi(parts[2], &millis) || nanos <= 0) {
      continue;
    }
    if (entries_.size() < options_.max_entries) {
      entries_.push_back({parts[0], absl::Nanoseconds(nanos), absl::FromUnixMillis(millis)});
    }
  }
}

absl::Status RttStore::Record(const std::string& datacenter_id, absl::Duration rtt,
                              absl::Time measured_at) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(entries_, [&](const MeasuredRtt& m) { return m.datacenter_id == datacenter_id; });
  entries_.insert(entries_.begin(), {datacenter_id, rtt, measured_at});
  std::stable_sort(entries_.begin(), entries_.end(), [](const MeasuredRtt& a, const MeasuredRtt& b) {
    return a.measured_at > b.measured_at;
  });
  if (entries_.size() > options_.max_entries) entries_.resize(options_.max_entries);
  return SaveLocked();
}

std::vector<MeasuredRtt> RttStore::Fresh(absl::Time now) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MeasuredRtt> out;
  for (const MeasuredRtt& m : entries_) {
    const absl::Duration age = now - m.measured_at;
    if (age > options_.max_age) continue;
    out.push_back(m);
    if (out.size() == options_.max_entries) break;
  }
  return out;
}

void RttStore::AddTo(DirectoryRequest* request, absl::Time now) const {
  if (!request->observed_rtts.empty()) return;
  for (const MeasuredRtt& m : Fresh(now)) {
    request->observed_rtts.push_back(
        {m.datacenter_id, m.rtt, std::max(absl::ZeroDuration(), now - m.measured_at)});
  }
}

absl::Status RttStore::SaveLocked() const {
  if (path_.empty()) return absl::OkStatus();
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = absl::StrCat(path_, ".tmp.", ::getpid(), ".", counter++);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kMagic << "\n";
    for (const MeasuredRtt& m : entries_) {
      out << m.datacenter_id << " " << absl::ToInt64Nanoseconds(m.rtt) << " "
          << absl::ToUnixMillis(m.measured_at) << "\n";
    }
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write the RTT cache ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot replace the RTT cache ", path_));
  }
  return absl::OkStatus();
}

}  // namespace dcdir::client
