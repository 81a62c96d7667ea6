// Tenant scale (issue 17): two replicas on one real redis-server, N tenant policies loaded
// through the admin API.
//
//   dcdir_tenant_bench [--tenants=100000] [--changes=200] [--answers=200000] [--threads=4]
//
// Prints, in one run:
//   1. load: N SetTenantPolicy RPCs on replica A from --threads clients (time, RPC/s), and the
//      time until replica B's snapshot holds all N (it reads them from Redis);
//   2. memory: this process's RSS (both replicas and the clients) before and after; the
//      difference over two is a replica's cost of N tenants;
//   3. answer cost: core::ComputeAnswer on B's snapshot, the example world, --answers answers
//      with a tenant id drawn from all N next to the same count without one (alternating blocks,
//      same run: the ratio is what to read);
//   4. start-up: a third replica started on the Redis that holds N policies, time until it is
//      SERVING with all N;
//   5. propagation: --changes single-tenant changes on A (SetTenantPolicy flipping its allowed
//      regions), time until B's published snapshot carries it (p50/p90/p99/max), with all N
//      loaded.
// Not a test: no thresholds (docs/BENCHMARKS.md has the figures and the command).

#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "service/core/answer.h"
#include "service/core/tenant_table.h"
#include "tests/bench/bench_support.h"
#include "tests/replica/replica_fixture.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

struct Flags {
  int tenants = 100000;
  int changes = 200;
  int answers = 200000;
  int threads = 4;
  int resync_seconds = 10;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  bench::ParseFlags(argc, argv,
                    {{"--tenants=", &f.tenants},
                     {"--changes=", &f.changes},
                     {"--answers=", &f.answers},
                     {"--threads=", &f.threads},
                     {"--resync_seconds=", &f.resync_seconds}},
                    "usage: %s [--tenants=N] [--changes=N] [--answers=N] [--threads=T] "
                    "[--resync_seconds=S]\n");
  return f;
}

[[noreturn]] void Die(const std::string& what) { bench::Die("tenant_bench", what); }

using bench::Ms;
using bench::PrintDistribution;
using bench::RssMiB;

std::string TenantId(int i) { return absl::StrFormat("tenant-%06d", i); }

v1::TenantPolicy Policy(const std::string& id, const std::vector<std::string>& regions, int i,
                        bool flipped) {
  v1::TenantPolicy p;
  p.set_tenant_id(id);
  p.set_home_region(regions[static_cast<size_t>(i) % regions.size()]);
  if (flipped || i % 3 == 0) {
    p.add_allowed_regions(regions[static_cast<size_t>(i + 1) % regions.size()]);
  }
  return p;
}

grpc::Status SetPolicy(v1::AdminService::Stub& admin, const v1::TenantPolicy& policy) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::SetTenantPolicyRequest request;
  *request.mutable_policy() = policy;
  v1::TenantPolicy response;
  return admin.SetTenantPolicy(&context, request, &response);
}

size_t TenantsOf(testing::Replica& r) {
  auto s = r.server().state().Current();
  return s == nullptr || s->tenants == nullptr ? 0 : s->tenants->size();
}

// Watches one tenant's allowed-region count in the snapshots a replica publishes.
class TenantWatch {
 public:
  explicit TenantWatch(runtime::DirectoryState& state) {
    state.AddSnapshotListener([this](const std::shared_ptr<const core::Snapshot>& s) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu_);
      if (id_.empty() || seen_) return;
      const core::CompiledTenant* t = s->tenants->Find(id_);
      if (t != nullptr && t->policy.allowed_regions.size() == want_) {
        seen_ = true;
        seen_at_ = now;
      }
    });
  }
  void Expect(const std::string& id, size_t allowed) {
    absl::MutexLock lock(&mu_);
    id_ = id;
    want_ = allowed;
    seen_ = false;
  }
  std::optional<absl::Time> Await(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seen_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&reached), timeout)) return std::nullopt;
    return seen_at_;
  }

 private:
  absl::Mutex mu_;
  std::string id_ ABSL_GUARDED_BY(mu_);
  size_t want_ ABSL_GUARDED_BY(mu_) = 0;
  bool seen_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time seen_at_ ABSL_GUARDED_BY(mu_);
};

int Main(int argc, char** argv) {
  const Flags flags = Parse(argc, argv);
  bench::ReplicaPair pair = bench::StartReplicaPair("tenant_bench");
  testing::Replica* const a = pair.a.get();
  testing::Replica* const b = pair.b.get();
  TenantWatch watch(b->server().state());  // idle until Expect (part 5)
  const auto topology = testing::ExampleTopology();
  std::vector<std::string> regions;
  for (const auto& r : topology->world().regions) regions.push_back(r.id);
  bench::ReportAllHealthy(*a, bench::ExampleDcIds(), absl::Minutes(30), "tenant_bench");
  const double rss_before = RssMiB();
  std::printf("tenant_bench: %d tenants, %zu regions, %zu DCs (example world), %d threads\n",
              flags.tenants, regions.size(), topology->world().datacenters.size(),
              flags.threads);

  // 1. Load through the admin API of A.
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  const absl::Time load_start = absl::Now();
  {
    std::vector<std::thread> workers;
    for (int t = 0; t < flags.threads; ++t) {
      workers.emplace_back([&] {
        auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", a->port()),
                                           grpc::InsecureChannelCredentials());
        auto admin = v1::AdminService::NewStub(channel);
        for (int i = next++; i < flags.tenants; i = next++) {
          if (!SetPolicy(*admin, Policy(TenantId(i), regions, i, false)).ok()) ++failed;
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  const absl::Duration load = absl::Now() - load_start;
  if (failed.load() != 0) Die(absl::StrCat(failed.load(), " SetTenantPolicy calls failed"));
  const size_t n = static_cast<size_t>(flags.tenants);
  auto all_on = [&](testing::Replica& r) {
    return testing::PollUntil([&] { return TenantsOf(r) == n; }, absl::Seconds(120),
                              absl::Milliseconds(1));
  };
  if (!all_on(*a)) Die("A never held every tenant");
  const std::optional<absl::Duration> b_lag = all_on(*b);
  if (!b_lag) Die("B never held every tenant");
  std::printf("load via admin API on A: %.2f s (%.0f SetTenantPolicy/s); B held all %zu %.1f ms "
              "after the last RPC returned\n",
              absl::ToDoubleSeconds(load), flags.tenants / absl::ToDoubleSeconds(load), n,
              Ms(*b_lag));

  // 2. Memory.
  const double rss_after = RssMiB();
  std::printf("RSS (this process: replicas A and B + clients): %.1f MiB before, %.1f MiB with "
              "%zu tenants; +%.1f MiB per replica\n",
              rss_before, rss_after, n, (rss_after - rss_before) / 2);

  // 3. Answer cost on B's snapshot, tenants drawn from all of them vs none, same run.
  {
    auto snapshot = b->server().state().Current();
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, flags.tenants - 1);
    std::vector<std::string> ids(4096);
    for (auto& id : ids) id = TenantId(pick(rng));
    const char* countries[] = {"US", "DE", "JP", "BR", "FR", "GB", "IN", "SG"};
    // pass 0: a stored tenant (lookup + its policy shapes the answer); 1: no tenant id;
    // 2: a tenant id that is not stored (the lookup alone).
    absl::Duration spent[3] = {absl::ZeroDuration(), absl::ZeroDuration(), absl::ZeroDuration()};
    size_t sink = 0;
    constexpr int kBlock = 1000;
    for (int done = 0; done < flags.answers; done += kBlock) {
      for (int pass = 0; pass < 3; ++pass) {
        const absl::Time start = absl::Now();
        for (int i = 0; i < kBlock; ++i) {
          core::AnswerRequest req;
          req.country = countries[(done + i) % 8];
          const std::string client = absl::StrCat("c", (done + i) & 1023);
          req.client_id = client;
          const std::string& id = ids[static_cast<size_t>(done + i) % ids.size()];
          const std::string unknown = "x" + id;
          if (pass == 0) req.tenant_id = id;
          if (pass == 2) req.tenant_id = unknown;
          sink += core::ComputeAnswer(*snapshot, req).primaries.size();
        }
        spent[pass] += absl::Now() - start;
      }
    }
    double per[3];
    for (int p = 0; p < 3; ++p) per[p] = absl::ToDoubleNanoseconds(spent[p]) / flags.answers;
    std::printf("answer cost on B (core, example world, %zu tenants stored): %.0f ns with a "
                "stored tenant, %.0f ns with an unknown tenant id, %.0f ns without; ratios "
                "%.3f and %.3f (%zu picks)\n",
                n, per[0], per[2], per[1], per[0] / per[1], per[2] / per[1], sink);
  }

  // 4. Start-up of a third replica on the Redis that holds N policies.
  {
    const absl::Time start = absl::Now();
    auto c = testing::Replica::Start(pair.options);
    if (!c.ok()) Die(std::string(c.status().message()));
    const absl::Duration started = absl::Now() - start;
    const std::optional<absl::Duration> full = all_on(**c);
    if (!full) Die("C never held every tenant");
    v1::Directory d;
    const bool serving = (*c)->Get("US", &d, "k", TenantId(0)).ok();
    std::printf("start-up of replica C with %zu policies in Redis: Start() %.1f ms, all %zu "
                "tenants %.1f ms after; GetDirectory with a tenant %s\n",
                n, Ms(started), n, Ms(*full), serving ? "OK" : "FAILED");
  }

  // 5. One tenant change on A -> B's snapshot, with all N loaded.
  {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", a->port()),
                                       grpc::InsecureChannelCredentials());
    auto admin = v1::AdminService::NewStub(channel);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> pick(0, flags.tenants - 1);
    std::vector<absl::Duration> to_b, rpc;
    std::vector<bool> flipped(n, false);
    for (int k = 0; k < flags.changes; ++k) {
      const int i = pick(rng);
      // Flip between "no allowed region" and "one allowed region" (i % 3 == 0 always has one:
      // skip those).
      if (i % 3 == 0) {
        --k;
        continue;
      }
      flipped[static_cast<size_t>(i)] = !flipped[static_cast<size_t>(i)];
      const v1::TenantPolicy policy = Policy(TenantId(i), regions, i, flipped[static_cast<size_t>(i)]);
      watch.Expect(policy.tenant_id(), static_cast<size_t>(policy.allowed_regions_size()));
      const absl::Time start = absl::Now();
      if (!SetPolicy(*admin, policy).ok()) Die("change failed");
      rpc.push_back(absl::Now() - start);
      const std::optional<absl::Time> seen = watch.Await(absl::Seconds(10));
      if (!seen) Die("B never saw a change");
      to_b.push_back(*seen - start);
    }
    PrintDistribution("SetTenantPolicy RPC on A", rpc);
    PrintDistribution("A's SetTenantPolicy -> B's snapshot", to_b);
  }

  // 6. GetDirectory while a full resync of N runs. Replica D reads everything every second
  // (--full_resync_interval=1s); B keeps the production default (60 s). Calls alternate between
  // B and D, one at a time, with tenant ids drawn from all N, for --resync_seconds.
  {
    testing::ReplicaOptions d_options = pair.options;
    d_options.state.resync_interval = absl::Seconds(1);
    d_options.state.full_resync_interval = absl::Seconds(1);
    auto d = testing::Replica::Start(d_options);
    if (!d.ok()) Die(std::string(d.status().message()));
    if (!all_on(**d)) Die("D never held every tenant");
    absl::Duration one_full = absl::ZeroDuration();
    {
      const absl::Time start = absl::Now();
      auto state = (*d)->store().LoadAll();
      if (!state.ok()) Die(std::string(state.status().message()));
      one_full = absl::Now() - start;
    }
    std::mt19937 rng(13);
    std::uniform_int_distribution<int> pick(0, flags.tenants - 1);
    std::vector<absl::Duration> on_b, on_d;
    // A tenant's policy may leave a US client nothing compliant (FAILED_PRECONDITION): that is
    // an answer. Only a refusal to answer (UNAVAILABLE, a deadline, ...) is a failure here.
    int answered = 0, refused_by_policy = 0, failures = 0;
    const absl::Time end = absl::Now() + absl::Seconds(flags.resync_seconds);
    while (absl::Now() < end) {
      for (testing::Replica* r : {b, d->get()}) {
        v1::Directory answer;
        const absl::Time start = absl::Now();
        const grpc::Status status = r->Get("US", &answer, "k", TenantId(pick(rng)));
        (r == b ? on_b : on_d).push_back(absl::Now() - start);
        if (status.ok()) {
          ++answered;
        } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          ++refused_by_policy;
        } else {
          ++failures;
        }
      }
    }
    if (failures != 0) Die(absl::StrCat(failures, " GetDirectory calls failed during resyncs"));
    std::printf("GetDirectory during resyncs: %d answered, %d FAILED_PRECONDITION (the tenant's "
                "policy leaves a US client nothing compliant), 0 failed\n",
                answered, refused_by_policy);
    std::printf("one full read of %zu tenants (LoadAll on D's store): %.1f ms\n", n,
                Ms(one_full));
    PrintDistribution("GetDirectory on B (full resync every 60 s)", on_b);
    PrintDistribution("GetDirectory on D (full resync every 1 s)", on_d);
  }
  return 0;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) { return dcdir::Main(argc, argv); }
