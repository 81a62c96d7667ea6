#ifndef DCDIR_TESTS_BENCH_BENCH_SUPPORT_H_
#define DCDIR_TESTS_BENCH_BENCH_SUPPORT_H_

// What the end-to-end benchmarks (propagation_bench, tenant_bench, watch_bench) share: their
// `--name=N` flags, dying with a message, RSS, latency distributions, and the two replicas on one
// real redis-server that propagation_bench and tenant_bench measure.
//
// Benchmarks, not tests: every failure prints "<bench>: <what>" on stderr and exits 1, a bad
// flag prints the usage and exits 2.

#include <initializer_list>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/replica/replica_fixture.h"
#include "tests/testing/redis_fixture.h"

namespace dcdir::bench {

// Prints "<bench>: <what>" on stderr and exits with status 1.
[[noreturn]] void Die(absl::string_view bench, absl::string_view what);

// One `--name=VALUE` flag of a benchmark: `name` with its "--" and "=", and where the value goes.
// An int or double must be a number > 0; a string may be anything.
struct BenchFlag {
  absl::string_view name;  // "--changes="
  std::variant<int*, double*, std::string*> out;
};

// Parses argv[1..] against `flags`. An unknown argument or a bad number prints `usage` (with
// "%s" replaced by argv[0]) on stderr and exits with status 2.
void ParseFlags(int argc, char** argv, std::initializer_list<BenchFlag> flags, const char* usage);

double Ms(absl::Duration d);

// VmRSS of process `pid` (0: this one) in MiB, from /proc/PID/status; -1 when unreadable.
double RssMiB(int pid = 0);

// CPU time process `pid` (0: this one) has used, user + system, from /proc/PID/stat (fields 14
// and 15, in clock ticks of sysconf(_SC_CLK_TCK)); -1 s when unreadable.
absl::Duration CpuTime(int pid = 0);

// One line: `name` left-aligned in `width` columns, then n and the p50/p90/p99/max in ms (nearest
// rank). Prints nothing for an empty `v`.
void PrintDistribution(absl::string_view name, std::vector<absl::Duration> v, int width = 44);

// A real redis-server and two replicas, A and B, on it (example world, real clock). Members are
// destroyed B, A, then Redis.
struct ReplicaPair {
  std::unique_ptr<testing::RedisServer> redis;
  testing::ReplicaOptions options;  // what A and B were started with (for a third replica)
  std::unique_ptr<testing::Replica> a;
  std::unique_ptr<testing::Replica> b;
};

// Starts Redis, then A, then B; dies (naming `bench`) when one does not start.
ReplicaPair StartReplicaPair(absl::string_view bench);

// The ids of the example world's DCs, in the world's order.
std::vector<std::string> ExampleDcIds();

// Reports every DC of `dc_ids` HEALTHY with congestion 0.1 and `ttl` through `replica`'s
// ReportHealth RPC; dies (naming `bench`) on the first failure.
void ReportAllHealthy(testing::Replica& replica, const std::vector<std::string>& dc_ids,
                      absl::Duration ttl, absl::string_view bench);

}  // namespace dcdir::bench

#endif  // DCDIR_TESTS_BENCH_BENCH_SUPPORT_H_
