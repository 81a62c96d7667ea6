// Tenant scale (issue 17): two replicas on one real redis-server, N tenant policies loaded
// through the admin API.
//
//   dcdir_tenant_bench [--tenants=100000] [--changes=200] [--answers=200000] [--threads=4]
//                      [--resync_seconds=10] [--invalid=10000] [--garbage=10]
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
//      loaded;
//   6. resync: GetDirectory on B (full resync every 60 s) and on a replica D that reads all N
//      every second, for --resync_seconds (p50/p90/p99/max), and one full read's time;
//   7. bad input, a flood: --invalid SetTenantPolicy calls on A with invalid regions (unknown,
//      empty, wrong case, bad characters, too many), each refused with INVALID_ARGUMENT and its
//      reason token, and the stored set identical before and after (tenants on A and B and a
//      digest of their policies, LoadAll's policies and tenant log position, Redis' key count);
//   8. bad input, the tenant id's length: 64 bytes (api::kMaxTenantIdBytes) is stored and
//      served by GetDirectory; 65 is refused (INVALID_TENANT_ID) by SetTenantPolicy,
//      GetTenantPolicy, DeleteTenantPolicy and GetDirectory;
//   9. bad data: --garbage keys of each kind of bad tenant record planted in Redis among the N
//      (not a record, another version, wrong field count, bad escape, another tenant's record,
//      a tenant id the API refuses, empty, a hash, a list, over 64 KiB, a key name over 1 KiB): a fresh replica E starts
//      with exactly the N good ones and counts exactly the planted keys (Store::BadRecords()
//      and dcdir_store_bad_records_total); a full read counts them once more; a replica F with
//      a full resync every second keeps answering for --resync_seconds and keeps the N.
// Not a test: no thresholds, but it exits 1 when a check above fails (a call not refused as it
// should be, anything changed by a refused call, a garbage key loaded or not counted);
// docs/BENCHMARKS.md has the figures and the command.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
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
#include "service/store/record_codec.h"
#include "tests/bench/bench_support.h"
#include "tests/replica/replica_fixture.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/synthetic_tenants.h"

namespace dcdir {
namespace {

struct Flags {
  int tenants = 100000;
  int changes = 200;
  int answers = 200000;
  int threads = 4;
  int resync_seconds = 10;
  int invalid = 10000;
  int garbage = 10;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  bench::ParseFlags(argc, argv,
                    {{"--tenants=", &f.tenants},
                     {"--changes=", &f.changes},
                     {"--answers=", &f.answers},
                     {"--threads=", &f.threads},
                     {"--resync_seconds=", &f.resync_seconds},
                     {"--invalid=", &f.invalid},
                     {"--garbage=", &f.garbage}},
                    "usage: %s [--tenants=N] [--changes=N] [--answers=N] [--threads=T] "
                    "[--resync_seconds=S] [--invalid=N] [--garbage=N]\n");
  return f;
}

[[noreturn]] void Die(const std::string& what) { bench::Die("tenant_bench", what); }

using bench::Ms;
using bench::PrintDistribution;
using bench::RssMiB;

using testing::SyntheticTenantId;

// Synthetic tenant i (testing::SyntheticTenant; `flipped`: also allowing the next region) as
// the API's policy.
v1::TenantPolicy Policy(const std::vector<std::string>& regions, int i, bool flipped) {
  testing::TenantShape t = testing::SyntheticTenant(i, regions, flipped);
  v1::TenantPolicy p;
  p.set_tenant_id(std::move(t.id));
  p.set_home_region(std::move(t.home_region));
  p.mutable_allowed_regions()->Add(t.allowed_regions.begin(), t.allowed_regions.end());
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

// An order-independent digest of a snapshot's tenant policies (each policy's store encoding,
// update time included): equal tables give equal digests within this process.
uint64_t Digest(const core::TenantTable& table) {
  uint64_t sum = 0;
  table.ForEach([&](const core::CompiledTenant& t) {
    sum += absl::Hash<std::string>{}(store::EncodeTenantPolicy(t.policy));
  });
  return sum;
}

uint64_t Digest(const std::vector<core::TenantPolicy>& policies) {
  uint64_t sum = 0;
  for (const core::TenantPolicy& p : policies) {
    sum += absl::Hash<std::string>{}(store::EncodeTenantPolicy(p));
  }
  return sum;
}

uint64_t DigestOf(testing::Replica& r) {
  auto s = r.server().state().Current();
  return s == nullptr || s->tenants == nullptr ? 0 : Digest(*s->tenants);
}

// What a refused call must leave as it was: both replicas' tenant tables, the stored policies
// and the tenant log position (one LoadAll on A's store), and Redis' key count.
struct StoredSet {
  size_t on_a = 0, on_b = 0;
  uint64_t digest_a = 0, digest_b = 0;
  std::vector<core::TenantPolicy> stored;
  store::TenantLogPosition position;
  std::string keys;  // DBSIZE

  bool operator==(const StoredSet&) const = default;
  std::string Describe() const {
    return absl::StrFormat("A %zu tenants (digest %016x), B %zu (digest %016x), store %zu "
                           "policies (digest %016x), tenant log %s:%d, %s Redis keys",
                           on_a, digest_a, on_b, digest_b, stored.size(), Digest(stored),
                           position.epoch, position.version, keys);
  }
};

StoredSet ReadStoredSet(bench::ReplicaPair& pair) {
  StoredSet set;
  set.on_a = TenantsOf(*pair.a);
  set.on_b = TenantsOf(*pair.b);
  set.digest_a = DigestOf(*pair.a);
  set.digest_b = DigestOf(*pair.b);
  absl::StatusOr<store::StoreState> state = pair.a->store().LoadAll();
  if (!state.ok()) bench::Die("tenant_bench", state.status().message());
  set.stored = std::move(state->tenants);
  set.position = state->tenant_position;
  absl::StatusOr<std::string> keys = pair.redis->Command({"DBSIZE"});
  if (!keys.ok()) bench::Die("tenant_bench", keys.status().message());
  set.keys = *keys;
  return set;
}

// One call's outcome: its code and the `dcdir-error-reason` trailer.
struct Outcome {
  grpc::StatusCode code;
  std::string reason;
  bool Is(grpc::StatusCode want, absl::string_view token) const {
    return code == want && reason == token;
  }
};

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

// Calls one unary RPC (`rpc`, a stub's sync method) with a 10 s deadline.
template <typename Stub, typename Request, typename Response>
Outcome Call(Stub& stub,
             grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
             const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  const grpc::Status status = (stub.*rpc)(&context, request, response);
  return {status.error_code(), testing::ReasonOf(context)};
}

Outcome SetPolicyOutcome(v1::AdminService::Stub& admin, const v1::TenantPolicy& policy) {
  v1::SetTenantPolicyRequest request;
  *request.mutable_policy() = policy;
  v1::TenantPolicy response;
  return Call(admin, &v1::AdminService::Stub::SetTenantPolicy, request, &response);
}

Outcome GetPolicyOutcome(v1::AdminService::Stub& admin, const std::string& id) {
  v1::GetTenantPolicyRequest request;
  request.set_tenant_id(id);
  v1::TenantPolicy response;
  return Call(admin, &v1::AdminService::Stub::GetTenantPolicy, request, &response);
}

Outcome DeletePolicyOutcome(v1::AdminService::Stub& admin, const std::string& id) {
  v1::DeleteTenantPolicyRequest request;
  request.set_tenant_id(id);
  v1::DeleteTenantPolicyResponse response;
  return Call(admin, &v1::AdminService::Stub::DeleteTenantPolicy, request, &response);
}

// GetDirectory for a US client with `tenant`; the answer goes to *out.
Outcome DirectoryOutcome(v1::DirectoryService::Stub& directory, const std::string& tenant,
                         v1::Directory* out) {
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("k");
  request.set_tenant_id(tenant);
  return Call(directory, &v1::DirectoryService::Stub::GetDirectory, request, out);
}

// The kinds of invalid SetTenantPolicy of part 7: call `i` is of kind i % kInvalidKinds.
constexpr int kInvalidKinds = 9;

struct InvalidCall {
  const char* kind;
  const char* reason;  // the reason token it must be refused with (INVALID_ARGUMENT)
  v1::TenantPolicy policy;
};

InvalidCall MakeInvalid(int i, int tenants, const std::vector<std::string>& regions) {
  // A stored tenant (a refusal that wrote anyway would change it), except kind 7.
  const std::string stored = SyntheticTenantId(i % tenants);
  const std::string& home = regions[static_cast<size_t>(i) % regions.size()];
  InvalidCall call{"", "UNKNOWN_REGION", {}};
  v1::TenantPolicy& p = call.policy;
  p.set_tenant_id(stored);
  p.set_home_region(home);
  switch (i % kInvalidKinds) {
    case 0:
      call.kind = "unknown home region";
      p.set_home_region("mars");
      break;
    case 1:
      call.kind = "unknown allowed region";
      p.add_allowed_regions(regions[0]);
      p.add_allowed_regions("atlantis");
      break;
    case 2:
      call.kind = "empty home region";
      p.set_home_region("");
      break;
    case 3:
      call.kind = "home region with bad characters";
      p.set_home_region(home + " west!");
      break;
    case 4:
      call.kind = "allowed region with the store's separators";
      p.add_allowed_regions(absl::StrCat(regions[0], "|", regions[1], ",x"));
      break;
    case 5:
      call.kind = "home region in upper case";
      p.set_home_region(absl::AsciiStrToUpper(home));
      break;
    case 6:
      call.kind = "more allowed regions than the config has";
      call.reason = "INVALID_ALLOWED_REGIONS";
      for (size_t k = 0; k <= regions.size(); ++k) {
        p.add_allowed_regions(regions[k % regions.size()]);
      }
      break;
    case 7:
      call.kind = "unknown home region for a new tenant";
      p.set_tenant_id(absl::StrFormat("new-%06d", i));
      p.set_home_region("atlantis");
      break;
    default:
      call.kind = "allowed region with a control character";
      p.add_allowed_regions(absl::StrCat(home, "\x01"));
      break;
  }
  return call;
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
          if (!SetPolicy(*admin, Policy(regions, i, false)).ok()) ++failed;
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
    for (auto& id : ids) id = SyntheticTenantId(pick(rng));
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
    const bool serving = (*c)->Get("US", &d, "k", SyntheticTenantId(0)).ok();
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
      const v1::TenantPolicy policy = Policy(regions, i, flipped[static_cast<size_t>(i)]);
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
        const grpc::Status status = r->Get("US", &answer, "k", SyntheticTenantId(pick(rng)));
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
  // 7. A flood of invalid SetTenantPolicy calls on A: each refused, nothing changed.
  {
    const StoredSet before = ReadStoredSet(pair);
    std::atomic<int> next_call{0};
    absl::Mutex mu;
    std::vector<int> refused(kInvalidKinds, 0), calls(kInvalidKinds, 0);
    std::vector<std::string> wrong;  // the first few calls not refused as they should be
    int wrong_count = 0;
    const absl::Time start = absl::Now();
    {
      std::vector<std::thread> workers;
      for (int t = 0; t < flags.threads; ++t) {
        workers.emplace_back([&] {
          auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", a->port()),
                                             grpc::InsecureChannelCredentials());
          auto admin = v1::AdminService::NewStub(channel);
          for (int i = next_call++; i < flags.invalid; i = next_call++) {
            const InvalidCall call = MakeInvalid(i, flags.tenants, regions);
            const Outcome got = SetPolicyOutcome(*admin, call.policy);
            const bool ok = got.Is(grpc::StatusCode::INVALID_ARGUMENT, call.reason);
            absl::MutexLock lock(&mu);
            ++calls[static_cast<size_t>(i % kInvalidKinds)];
            if (ok) {
              ++refused[static_cast<size_t>(i % kInvalidKinds)];
            } else if (++wrong_count <= 5) {
              wrong.push_back(absl::StrCat(call.kind, ": code ", got.code, " reason \"",
                                           got.reason, "\", wanted INVALID_ARGUMENT ",
                                           call.reason));
            }
          }
        });
      }
      for (auto& w : workers) w.join();
    }
    const absl::Duration flood = absl::Now() - start;
    const StoredSet after = ReadStoredSet(pair);
    int total_refused = 0;
    std::printf("invalid SetTenantPolicy flood on A (%d calls, %d threads, %zu tenants "
                "stored): %.2f s (%.0f calls/s)\n",
                flags.invalid, flags.threads, n, absl::ToDoubleSeconds(flood),
                flags.invalid / absl::ToDoubleSeconds(flood));
    for (int k = 0; k < kInvalidKinds; ++k) {
      const InvalidCall example = MakeInvalid(k, flags.tenants, regions);
      std::printf("  %-44s %5d of %5d refused INVALID_ARGUMENT %s\n", example.kind,
                  refused[static_cast<size_t>(k)], calls[static_cast<size_t>(k)],
                  example.reason);
      total_refused += refused[static_cast<size_t>(k)];
    }
    std::printf("  before: %s\n  after:  %s\n  stored set %s\n", before.Describe().c_str(),
                after.Describe().c_str(), before == after ? "identical" : "CHANGED");
    for (const std::string& w : wrong) std::fprintf(stderr, "tenant_bench: %s\n", w.c_str());
    if (total_refused != flags.invalid) {
      Die(absl::StrCat(flags.invalid - total_refused, " of ", flags.invalid,
                       " invalid SetTenantPolicy calls were not refused as they should be"));
    }
    if (!(before == after)) Die("the refused SetTenantPolicy calls changed the stored set");
    v1::Directory d;
    const Outcome served = DirectoryOutcome(b->directory(), SyntheticTenantId(1), &d);
    if (served.code != grpc::StatusCode::OK &&
        served.code != grpc::StatusCode::FAILED_PRECONDITION) {
      Die("B stopped answering after the flood");
    }
  }

  // 8. A tenant id of 64 bytes (api::kMaxTenantIdBytes) and one of 65.
  {
    const std::string longest = absl::StrCat("max-", std::string(60, 'x'));
    const std::string too_long = longest + "y";
    if (longest.size() != 64) Die("the longest tenant id is not 64 bytes");
    v1::TenantPolicy policy;
    policy.set_tenant_id(longest);
    policy.set_home_region("us");
    policy.add_allowed_regions("ca");
    const Outcome set = SetPolicyOutcome(a->admin(), policy);
    if (set.code != grpc::StatusCode::OK) Die("SetTenantPolicy of a 64-byte tenant id failed");
    auto holds_longest = [&](testing::Replica& r) {
      auto s = r.server().state().Current();
      return s != nullptr && s->tenants->Find(longest) != nullptr;
    };
    const std::optional<absl::Duration> on_b =
        testing::PollUntil([&] { return holds_longest(*b); }, absl::Seconds(10),
                           absl::Milliseconds(1));
    if (!on_b) Die("B never held the 64-byte tenant");
    // Its policy shapes B's answer: a US client gets only us and ca DCs.
    v1::Directory d;
    const Outcome got = DirectoryOutcome(b->directory(), longest, &d);
    if (got.code != grpc::StatusCode::OK) Die("GetDirectory with the 64-byte tenant failed");
    std::vector<std::string> outside;
    for (const auto* list : {&d.primaries(), &d.secondaries()}) {
      for (const v1::DataCenter& dc : *list) {
        if (dc.region() != "us" && dc.region() != "ca") outside.push_back(dc.id());
      }
    }
    if (!outside.empty()) Die("the 64-byte tenant's policy was not applied");
    const Outcome get_ok = GetPolicyOutcome(a->admin(), longest);
    std::printf("tenant id of 64 bytes: SetTenantPolicy OK, on B %.1f ms later, GetTenantPolicy "
                "%s, GetDirectory on B OK with %d primaries + %d secondaries, all in us/ca\n",
                Ms(*on_b), get_ok.code == grpc::StatusCode::OK ? "OK" : "FAILED",
                d.primaries_size(), d.secondaries_size());
    if (get_ok.code != grpc::StatusCode::OK) Die("GetTenantPolicy of the 64-byte tenant failed");
    policy.set_tenant_id(too_long);
    const std::pair<const char*, Outcome> refusals[] = {
        {"SetTenantPolicy", SetPolicyOutcome(a->admin(), policy)},
        {"GetTenantPolicy", GetPolicyOutcome(a->admin(), too_long)},
        {"DeleteTenantPolicy", DeletePolicyOutcome(a->admin(), too_long)},
        {"GetDirectory", DirectoryOutcome(b->directory(), too_long, &d)},
    };
    std::printf("tenant id of 65 bytes:");
    bool all_refused = true;
    for (const auto& [rpc, outcome] : refusals) {
      const bool ok = outcome.Is(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_TENANT_ID");
      all_refused = all_refused && ok;
      const std::string code =
          absl::StatusCodeToString(static_cast<absl::StatusCode>(outcome.code));
      std::printf(" %s %s %s;", rpc, code.c_str(), outcome.reason.c_str());
    }
    std::printf("\n");
    if (!all_refused) Die("a 65-byte tenant id was not refused with INVALID_TENANT_ID");
    if (DeletePolicyOutcome(a->admin(), longest).code != grpc::StatusCode::OK) {
      Die("DeleteTenantPolicy of the 64-byte tenant failed");
    }
    if (!all_on(*a) || !all_on(*b)) Die("A or B did not go back to the N tenants");
  }

  // 9. Garbage tenant records in Redis among the N.
  {
    const uint64_t good = DigestOf(*b);
    store::RedisStore& s = a->store();
    core::TenantPolicy other;  // a good record, planted under another tenant's key
    other.tenant_id = SyntheticTenantId(1);
    other.home_region = regions[0];
    std::vector<std::pair<const char*, int>> kinds;
    auto plant = [&](const char* kind, const std::function<std::vector<std::string>(int)>& cmd) {
      for (int g = 0; g < flags.garbage; ++g) {
        absl::StatusOr<std::string> r = pair.redis->Command(cmd(g));
        if (!r.ok()) Die(absl::StrCat("planting ", kind, ": ", r.status().message()));
      }
      kinds.emplace_back(kind, flags.garbage);
    };
    auto key = [&](absl::string_view name, int g) {
      return s.TenantKey(absl::StrCat(name, "-", g));
    };
    plant("not a record", [&](int g) {
      return std::vector<std::string>{"SET", key("junk", g), std::string("\xff\x00 junk", 7)};
    });
    plant("another format version", [&](int g) {
      return std::vector<std::string>{"SET", key("v9", g), absl::StrCat("t9|v9-", g, "|us||0")};
    });
    plant("wrong number of fields", [&](int g) {
      return std::vector<std::string>{"SET", key("short", g), absl::StrCat("t1|short-", g, "|us")};
    });
    plant("bad escape", [&](int g) {
      return std::vector<std::string>{"SET", key("esc", g),
                                      absl::StrCat("t1|esc-", g, "%zz|us||0")};
    });
    plant("another tenant's record", [&](int g) {
      return std::vector<std::string>{"SET", key("wrongid", g), store::EncodeTenantPolicy(other)};
    });
    plant("a tenant id the API refuses", [&](int g) {
      core::TenantPolicy p = other;  // a good record but for its id: "bad id|<g>:x"
      p.tenant_id = absl::StrCat("bad id|", g, ":x");
      return std::vector<std::string>{"SET", s.TenantKey(p.tenant_id),
                                      store::EncodeTenantPolicy(p)};
    });
    plant("empty value", [&](int g) {
      return std::vector<std::string>{"SET", key("empty", g), ""};
    });
    plant("a hash", [&](int g) {
      return std::vector<std::string>{"HSET", key("hash", g), "f", "v"};
    });
    plant("a list", [&](int g) {
      return std::vector<std::string>{"LPUSH", key("list", g), "x"};
    });
    plant("1 MiB value (over 64 KiB)", [&](int g) {
      return std::vector<std::string>{"SETRANGE", key("huge", g), "1048575", "x"};
    });
    plant("key name over 1 KiB", [&](int g) {
      core::TenantPolicy p = other;
      p.tenant_id = absl::StrCat(std::string(2000, 'k'), "-", g);
      return std::vector<std::string>{"SET", s.TenantKey(p.tenant_id),
                                      store::EncodeTenantPolicy(p)};
    });
    const uint64_t planted = kinds.size() * static_cast<uint64_t>(flags.garbage);
    std::printf("garbage planted in Redis among the %zu tenants: %llu keys, %d of each kind:", n,
                static_cast<unsigned long long>(planted), flags.garbage);
    for (const auto& [kind, count] : kinds) std::printf(" %s;", kind);
    std::printf("\n");

    // A fresh replica E starts on it.
    const absl::Time start = absl::Now();
    auto e = testing::Replica::Start(pair.options);
    if (!e.ok()) Die(std::string(e.status().message()));
    const absl::Duration started = absl::Now() - start;
    const std::optional<absl::Duration> full = testing::PollUntil(
        [&] { return TenantsOf(**e) >= n; }, absl::Seconds(120), absl::Milliseconds(1));
    if (!full) Die("E never held the N tenants");
    const size_t on_e = TenantsOf(**e);
    const bool same = DigestOf(**e) == good;
    const uint64_t bad_e = (*e)->store().BadRecords();
    const std::optional<absl::Duration> metric_e = testing::PollUntil(
        [&] {
          return (*e)->Metric("dcdir_store_bad_records_total") == static_cast<double>(planted);
        },
        absl::Seconds(10), absl::Milliseconds(5));
    v1::Directory d;
    const Outcome answer = DirectoryOutcome((*e)->directory(), SyntheticTenantId(2), &d);
    const bool answered = answer.code == grpc::StatusCode::OK ||
                          answer.code == grpc::StatusCode::FAILED_PRECONDITION;
    std::printf("start-up of replica E with them: Start() %.1f ms, %zu tenants %s (the N good "
                "ones: %s); BadRecords() %llu, dcdir_store_bad_records_total %.0f; GetDirectory "
                "%s\n",
                Ms(started), on_e, on_e == n ? "exactly" : "WRONG", same ? "yes" : "NO",
                static_cast<unsigned long long>(bad_e),
                (*e)->Metric("dcdir_store_bad_records_total").value_or(-1),
                answered ? "answers" : "FAILED");
    if (on_e != n || !same) Die("E does not hold exactly the N good tenants");
    if (bad_e != planted) Die("E did not count exactly the planted keys as bad");
    if (!metric_e) Die("E's dcdir_store_bad_records_total is not the planted count");
    if (!answered) Die("E does not answer");

    // One full read (what a full resync does) on E's store: counts each once more.
    const absl::Time read_start = absl::Now();
    absl::StatusOr<store::StoreState> state = (*e)->store().LoadAll();
    const absl::Duration read = absl::Now() - read_start;
    if (!state.ok()) Die(std::string(state.status().message()));
    const uint64_t bad_after = (*e)->store().BadRecords();
    std::printf("one full read with them (LoadAll on E's store): %.1f ms, %zu policies (the N "
                "good ones: %s), BadRecords() %llu -> %llu\n",
                Ms(read), state->tenants.size(), Digest(state->tenants) == good ? "yes" : "NO",
                static_cast<unsigned long long>(bad_e),
                static_cast<unsigned long long>(bad_after));
    if (state->tenants.size() != n || Digest(state->tenants) != good) {
      Die("a full read does not return exactly the N good tenants");
    }
    if (bad_after != 2 * planted) Die("a full read did not count each planted key once");

    // Replica F reads everything every second (as D in part 6) while it answers.
    testing::ReplicaOptions f_options = pair.options;
    f_options.state.resync_interval = absl::Seconds(1);
    f_options.state.full_resync_interval = absl::Seconds(1);
    auto f = testing::Replica::Start(f_options);
    if (!f.ok()) Die(std::string(f.status().message()));
    std::mt19937 rng(17);
    std::uniform_int_distribution<int> pick(0, flags.tenants - 1);
    std::vector<absl::Duration> on_f;
    int failures = 0;
    size_t fewest = n, most = 0;
    const absl::Time end = absl::Now() + absl::Seconds(flags.resync_seconds);
    while (absl::Now() < end) {
      const absl::Time call = absl::Now();
      const Outcome got = DirectoryOutcome((*f)->directory(), SyntheticTenantId(pick(rng)), &d);
      on_f.push_back(absl::Now() - call);
      if (got.code != grpc::StatusCode::OK &&
          got.code != grpc::StatusCode::FAILED_PRECONDITION) {
        ++failures;
      }
      const size_t held = TenantsOf(**f);
      fewest = std::min(fewest, held);
      most = std::max(most, held);
    }
    // Between two full reads the count is a whole number of passes over the planted keys.
    uint64_t bad_f = 0;
    const bool settled = testing::PollUntil(
        [&] {
          bad_f = (*f)->store().BadRecords();
          return bad_f % planted == 0;
        },
        absl::Seconds(10), absl::Milliseconds(1)).has_value();
    std::printf("replica F with them, full resync every 1 s, for %d s: %zu GetDirectory calls, "
                "%d failed; F held %zu..%zu tenants (the N good ones at the end: %s); "
                "BadRecords() %llu = %llu full reads x %llu\n",
                flags.resync_seconds, on_f.size(), failures, fewest, most,
                DigestOf(**f) == good ? "yes" : "NO", static_cast<unsigned long long>(bad_f),
                static_cast<unsigned long long>(bad_f / planted),
                static_cast<unsigned long long>(planted));
    PrintDistribution("GetDirectory on F (garbage, full resync 1 s)", on_f);
    if (failures != 0) Die(absl::StrCat(failures, " GetDirectory calls on F failed"));
    if (fewest != n || most != n || DigestOf(**f) != good) {
      Die("F did not hold exactly the N good tenants throughout");
    }
    if (!settled || bad_f < 2 * planted) {
      Die("F's bad-record count is not whole full reads of the planted keys (at least two)");
    }
  }
  return 0;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) { return dcdir::Main(argc, argv); }
