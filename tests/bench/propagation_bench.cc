// Propagation latency between two replicas on one real redis-server, and reporting throughput.
//
//   dcdir_propagation_bench [--changes=500] [--seconds=3] [--threads=4]
//
// 1. Propagation: `--changes` times, replica A gets a ReportHealth RPC flipping us-nyc between
//    HEALTHY and DOWN; we time from just before the RPC until
//    (a) replica B's published snapshot shows the new status (a snapshot listener on B), and
//    (b) separately, GetDirectory over gRPC on B reflects it (polled back to back).
// 2. Reporting throughput: `--threads` clients issue ReportHealth RPCs (random DC, status and
//    congestion) for `--seconds` against replica A (Redis), and, in the same run, against a
//    replica on the embedded in-memory store (the same server without a network store).
// Prints p50/p90/p99/max and the RPC rates. Not a test: no thresholds (see docs/BENCHMARKS.md).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "service/api/server.h"
#include "tests/bench/bench_support.h"
#include "tests/replica/replica_fixture.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

struct Flags {
  int changes = 500;
  double seconds = 3;
  int threads = 4;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  bench::ParseFlags(
      argc, argv,
      {{"--changes=", &f.changes}, {"--seconds=", &f.seconds}, {"--threads=", &f.threads}},
      "usage: %s [--changes=N] [--seconds=S] [--threads=T]\n");
  return f;
}

[[noreturn]] void Die(const std::string& what) { bench::Die("propagation_bench", what); }

using bench::PrintDistribution;

// Watches one DC's effective status in the snapshots a replica publishes.
class StatusWatch {
 public:
  StatusWatch(runtime::DirectoryState& state, const std::string& dc) {
    state.AddSnapshotListener([this, dc](const std::shared_ptr<const core::Snapshot>& s) {
      const core::HealthStatus status = s->dcs[s->topology->DcIndex(dc)].status;
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu_);
      if (status != status_) {
        status_ = status;
        changed_at_ = now;
      }
    });
  }
  // Waits until the status is `want`; the time it was first published.
  std::optional<absl::Time> Await(core::HealthStatus want, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_ == want; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&reached), timeout)) return std::nullopt;
    return changed_at_;
  }

 private:
  absl::Mutex mu_;
  core::HealthStatus status_ ABSL_GUARDED_BY(mu_) = core::HealthStatus::kUnknown;
  absl::Time changed_at_ ABSL_GUARDED_BY(mu_);
};

bool OffersNyc(testing::Replica& r) {
  v1::Directory d;
  if (!r.Get("US", &d).ok()) return false;
  for (const auto& x : d.primaries()) {
    if (x.id() == "us-nyc") return true;
  }
  return false;
}

// ReportHealth RPCs/s from `threads` clients on `port` for `seconds`; also counts failures.
struct Throughput {
  double rps = 0;
  int64_t ok = 0;
  int64_t failed = 0;
};

Throughput MeasureReporting(int port, int threads, double seconds,
                            const std::vector<std::string>& dcs) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::ReportingService::NewStub(channel);
  std::atomic<int64_t> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      std::uniform_int_distribution<size_t> pick(0, dcs.size() - 1);
      std::uniform_real_distribution<double> congestion(0, 0.6);
      while (!stop.load(std::memory_order_relaxed)) {
        v1::HealthReport report;
        report.set_datacenter_id(dcs[pick(rng)]);
        report.set_status(v1::HEALTH_STATUS_HEALTHY);
        report.set_congestion(congestion(rng));
        report.mutable_ttl()->set_seconds(300);
        v1::ReportHealthResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        (stub->ReportHealth(&context, report, &response).ok() ? ok : failed)++;
      }
    });
  }
  const absl::Time start = absl::Now();
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  return {static_cast<double>(ok.load()) / elapsed, ok.load(), failed.load()};
}

int Main(int argc, char** argv) {
  const Flags flags = Parse(argc, argv);
  bench::ReplicaPair pair = bench::StartReplicaPair("propagation_bench");
  testing::Replica* const a = pair.a.get();
  testing::Replica* const b = pair.b.get();
  StatusWatch watch(b->server().state(), "us-nyc");

  const std::vector<std::string> dcs = bench::ExampleDcIds();
  bench::ReportAllHealthy(*a, dcs, absl::Minutes(5), "propagation_bench");
  if (!watch.Await(core::HealthStatus::kHealthy, absl::Seconds(5))) Die("B never converged");

  // Change i on A: us-nyc DOWN for even i, HEALTHY for odd i. The time just before the RPC.
  auto flip_nyc = [&](int i) {
    const bool down = i % 2 == 0;
    const absl::Time start = absl::Now();
    if (!a->Report("us-nyc", down ? v1::HEALTH_STATUS_DOWN : v1::HEALTH_STATUS_HEALTHY, 0.1,
                   absl::Minutes(5))
             .ok()) {
      Die("report failed");
    }
    return start;
  };

  // (a) A's ReportHealth RPC -> B's snapshot.
  std::vector<absl::Duration> to_snapshot, report_rpc;
  for (int i = 0; i < flags.changes; ++i) {
    const bool down = i % 2 == 0;
    const absl::Time start = flip_nyc(i);
    report_rpc.push_back(absl::Now() - start);
    auto seen = watch.Await(down ? core::HealthStatus::kDown : core::HealthStatus::kHealthy,
                            absl::Seconds(5));
    if (!seen) Die(absl::StrCat("change ", i, " never reached B"));
    to_snapshot.push_back(*seen - start);
  }
  // (b) A's ReportHealth RPC -> B's GetDirectory answer (polled over gRPC).
  std::vector<absl::Duration> to_answer;
  for (int i = 0; i < flags.changes; ++i) {
    const bool down = i % 2 == 0;
    const absl::Time start = flip_nyc(i);
    int polls = 0;
    while (OffersNyc(*b) == down) {
      if (++polls > 100000) Die(absl::StrCat("change ", i, " never reached B's answers"));
    }
    to_answer.push_back(absl::Now() - start);
  }

  std::printf("propagation A -> B over one redis-server (example world, 21 DCs)\n");
  PrintDistribution("ReportHealth RPC on A", report_rpc);
  PrintDistribution("A's RPC start -> B's snapshot published", to_snapshot);
  PrintDistribution("A's RPC start -> B's GetDirectory shows it", to_answer);

  // Reporting throughput: Redis-backed replica vs the embedded store, same run.
  const Throughput with_redis = MeasureReporting(a->port(), flags.threads, flags.seconds, dcs);
  // The same server options as replica A (no token, its state options), on the real clock.
  auto local = testing::TestServer::Start(
      {.auth_token = "",
       .real_clock = true,
       .configure = [&pair](api::ServerOptions& options, const core::Clock&) {
         options.state = pair.options.state;
       }});
  if (!local.ok()) Die(std::string(local.status().message()));
  const Throughput in_memory =
      MeasureReporting((*local)->server().port(), flags.threads, flags.seconds, dcs);
  (*local)->Shutdown();
  std::printf("ReportHealth throughput, %d client threads, %.1f s each:\n", flags.threads,
              flags.seconds);
  std::printf("  replica on Redis (B listening)   %9.0f RPC/s  (ok %lld, failed %lld)\n",
              with_redis.rps, static_cast<long long>(with_redis.ok),
              static_cast<long long>(with_redis.failed));
  std::printf("  replica on the in-memory store   %9.0f RPC/s  (ok %lld, failed %lld)\n",
              in_memory.rps, static_cast<long long>(in_memory.ok),
              static_cast<long long>(in_memory.failed));
  std::printf("  ratio Redis / in-memory          %9.2f\n",
              in_memory.rps > 0 ? with_redis.rps / in_memory.rps : 0.0);
  return with_redis.failed + in_memory.failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) { return dcdir::Main(argc, argv); }
