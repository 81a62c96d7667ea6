#include "tests/bench/bench_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/server_fixture.h"

namespace dcdir::bench {

void Die(absl::string_view bench, absl::string_view what) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(bench.size()), bench.data(),
               static_cast<int>(what.size()), what.data());
  std::exit(1);
}

void UsageExit(const char* argv0, const char* usage) {
  std::fprintf(stderr, usage, argv0);
  std::exit(2);
}

namespace {

template <typename T>
bool Take(absl::string_view arg, absl::string_view name, T* out, bool* ok,
          bool (*parse)(absl::string_view, T*)) {
  if (!absl::StartsWith(arg, name)) return false;
  if (!parse(arg.substr(name.size()), out) || !(*out > 0)) *ok = false;
  return true;
}

bool ParseInt(absl::string_view s, int* out) { return absl::SimpleAtoi(s, out); }
bool ParseDouble(absl::string_view s, double* out) { return absl::SimpleAtod(s, out); }

}  // namespace

bool TakeFlag(absl::string_view arg, absl::string_view name, int* out, bool* ok) {
  return Take<int>(arg, name, out, ok, &ParseInt);
}

bool TakeFlag(absl::string_view arg, absl::string_view name, double* out, bool* ok) {
  return Take<double>(arg, name, out, ok, &ParseDouble);
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double RssMiB(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      int64_t kb = 0;
      if (absl::SimpleAtoi(digits, &kb)) return static_cast<double>(kb) / 1024.0;
    }
  }
  return -1;
}

void PrintDistribution(absl::string_view name, std::vector<absl::Duration> v, int width) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return Ms(v[std::min(i, v.size() - 1)]);
  };
  const std::string label(name);
  std::printf("%-*s n=%zu  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", width,
              label.c_str(), v.size(), q(0.5), q(0.9), q(0.99), Ms(v.back()));
}

ReplicaPair StartReplicaPair(absl::string_view bench) {
  ReplicaPair pair;
  auto redis = testing::RedisServer::Start();
  if (!redis.ok()) Die(bench, redis.status().message());
  pair.redis = *std::move(redis);
  pair.options.redis_url = pair.redis->url();
  auto a = testing::Replica::Start(pair.options);
  if (!a.ok()) Die(bench, a.status().message());
  pair.a = *std::move(a);
  auto b = testing::Replica::Start(pair.options);
  if (!b.ok()) Die(bench, b.status().message());
  pair.b = *std::move(b);
  return pair;
}

std::vector<std::string> ExampleDcIds() {
  const auto topology = testing::ExampleTopology();  // alive across the loop
  std::vector<std::string> ids;
  for (const auto& dc : topology->world().datacenters) ids.push_back(dc.id);
  return ids;
}

void ReportAllHealthy(testing::Replica& replica, const std::vector<std::string>& dc_ids,
                      absl::Duration ttl, absl::string_view bench) {
  for (const std::string& id : dc_ids) {
    if (!replica.Report(id, v1::HEALTH_STATUS_HEALTHY, 0.1, ttl).ok()) {
      Die(bench, "initial report failed");
    }
  }
}

}  // namespace dcdir::bench
