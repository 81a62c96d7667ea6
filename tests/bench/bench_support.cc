#include "tests/bench/bench_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/server_fixture.h"

namespace dcdir::bench {

void Die(absl::string_view bench, absl::string_view what) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(bench.size()), bench.data(),
               static_cast<int>(what.size()), what.data());
  std::exit(1);
}

namespace {

// Parses `text` into the flag's target; false for a number that is not a number > 0.
bool Assign(absl::string_view text, const BenchFlag& flag) {
  if (auto* out = std::get_if<std::string*>(&flag.out)) {
    **out = std::string(text);
    return true;
  }
  if (auto* out = std::get_if<int*>(&flag.out)) return absl::SimpleAtoi(text, *out) && **out > 0;
  double* out = std::get<double*>(flag.out);
  return absl::SimpleAtod(text, out) && *out > 0;
}

}  // namespace

void ParseFlags(int argc, char** argv, std::initializer_list<BenchFlag> flags, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    bool ok = false;
    for (const BenchFlag& flag : flags) {
      if (absl::StartsWith(arg, flag.name)) {
        ok = Assign(arg.substr(flag.name.size()), flag);
        break;
      }
    }
    if (!ok) {
      std::fprintf(stderr, usage, argv[0]);
      std::exit(2);
    }
  }
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

absl::Duration CpuTime(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return absl::Seconds(-1);
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  int64_t utime = 0, stime = 0;  // fields 14 and 15 = the 12th and 13th after the name
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::Seconds(-1);
  }
  return absl::Seconds(static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK)));
}

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
