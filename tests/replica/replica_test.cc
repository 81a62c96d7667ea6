// Stateless replicas on one Redis: two (or three) dcdir servers, each with its own RedisStore,
// on a real redis-server (or a Sentinel cluster) started by the fixtures on free loopback
// ports. Real clock: the replicas and Redis share time. Every wait is a bounded poll.

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "service/core/model.h"
#include "service/store/record_codec.h"
#include "tests/replica/replica_fixture.h"
#include "tests/testing/redis_fixture.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {
namespace {

const std::vector<std::string> kCountries = {"US", "CA", "BR", "DE", "IN", "SG",
                                             "HK", "JP", "AU", "CN", "KR", "ZZ"};

std::vector<std::string> AllDcIds() {
  static const std::vector<std::string>* const ids = [] {
    auto* out = new std::vector<std::string>();
    const auto topology = ExampleTopology();
    for (const core::DataCenter& dc : topology->world().datacenters) out->push_back(dc.id);
    return out;
  }();
  return *ids;
}

// A directory answer as text (lists in order, flags), or the status code when there is none.
std::string Fingerprint(Replica& r, const std::string& country, const std::string& client_id,
                        const std::string& tenant = "") {
  v1::Directory d;
  grpc::Status s = r.Get(country, &d, client_id, tenant);
  if (!s.ok()) return absl::StrCat("error ", s.error_code());
  std::vector<std::string> parts;
  for (const auto& dc : d.primaries()) {
    parts.push_back(absl::StrCat("P:", dc.id(), "/", dc.status(), "/", dc.congested()));
  }
  for (const auto& dc : d.secondaries()) {
    parts.push_back(absl::StrCat("S:", dc.id(), "/", dc.status(), "/", dc.congested()));
  }
  parts.push_back(absl::StrCat("fallback=", d.fallback_active(), " stale=", d.stale()));
  return absl::StrJoin(parts, " ");
}

bool SameAnswers(Replica& a, Replica& b, int client_ids, const std::string& tenant = "") {
  for (const std::string& country : kCountries) {
    for (int k = 0; k < client_ids; ++k) {
      const std::string id = absl::StrCat("client-", k);
      if (Fingerprint(a, country, id, tenant) != Fingerprint(b, country, id, tenant)) return false;
    }
  }
  return true;
}

void ReportAll(Replica& r, v1::HealthStatus status, absl::Duration ttl = absl::ZeroDuration()) {
  for (const std::string& id : AllDcIds()) {
    grpc::Status s = r.Report(id, status, 0.1, ttl);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
}

// True when `dc` is in the country's answer (primaries or secondaries) on `r`.
bool Offers(Replica& r, const std::string& country, const std::string& dc) {
  v1::Directory d;
  if (!r.Get(country, &d).ok()) return false;
  for (const auto& x : d.primaries()) {
    if (x.id() == dc) return true;
  }
  for (const auto& x : d.secondaries()) {
    if (x.id() == dc) return true;
  }
  return false;
}

core::HealthStatus StatusOn(Replica& r, const std::string& dc) {
  auto s = r.server().state().Current();
  return s->dcs[s->topology->DcIndex(dc)].status;
}

class ReplicaTest : public ::testing::Test {
 protected:
  void StartRedis(std::vector<std::string> extra_args = {}) {
    auto redis = RedisServer::Start(std::move(extra_args));
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
  }
  std::unique_ptr<Replica> StartReplica(const std::string& url,
                                        runtime::DirectoryStateOptions state = {}) {
    ReplicaOptions options;
    options.redis_url = url;
    options.state = state;
    auto r = Replica::Start(std::move(options));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }
  // Reports every DC HEALTHY on `a` and waits until `b` answers the same for every country.
  void ReportAllAndConverge(Replica& a, Replica& b) {
    ASSERT_NO_FATAL_FAILURE(ReportAll(a, v1::HEALTH_STATUS_HEALTHY));
    ASSERT_TRUE(PollUntil([&] { return SameAnswers(a, b, 1); }, absl::Seconds(5)))
        << "replica B never converged";
  }

  std::unique_ptr<RedisServer> redis_;
};

TEST_F(ReplicaTest, HealthReportOnOneReplicaIsSeenOnTheOtherWithIdenticalAnswers) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  auto a = StartReplica(redis_->url());
  auto b = StartReplica(redis_->url());
  ASSERT_TRUE(a && b);
  v1::Directory d;
  EXPECT_EQ(b->Get("JP", &d).error_code(), grpc::StatusCode::UNAVAILABLE);  // nothing reported

  ASSERT_NO_FATAL_FAILURE(ReportAll(*a, v1::HEALTH_STATUS_HEALTHY));
  ASSERT_TRUE(PollUntil([&] { return b->Get("JP", &d).ok(); }, absl::Seconds(5)));
  EXPECT_THAT(Ids(d.primaries()), ::testing::UnorderedElementsAre("jp-tyo", "jp-osa"));
  EXPECT_FALSE(d.stale());
  // Same answers on both replicas, for many client ids and every kind of country.
  ASSERT_TRUE(PollUntil([&] { return SameAnswers(*a, *b, 1); }, absl::Seconds(5)));
  for (const std::string& country : kCountries) {
    for (int k = 0; k < 40; ++k) {
      const std::string id = absl::StrCat("client-", k);
      EXPECT_EQ(Fingerprint(*a, country, id), Fingerprint(*b, country, id)) << country << " " << id;
    }
  }

  // A change: us-nyc DOWN on A, gone from B's answers.
  ASSERT_TRUE(Offers(*b, "US", "us-nyc"));
  ASSERT_TRUE(a->Report("us-nyc", v1::HEALTH_STATUS_DOWN).ok());
  EXPECT_FALSE(Offers(*a, "US", "us-nyc"));  // read-your-writes on A
  ASSERT_TRUE(PollUntil([&] { return !Offers(*b, "US", "us-nyc"); }, absl::Seconds(5)));
  EXPECT_EQ(StatusOn(*b, "us-nyc"), core::HealthStatus::kDown);
  // Congestion travels too (hysteresis decided once, by the writer).
  ASSERT_TRUE(a->Report("eu-fra", v1::HEALTH_STATUS_HEALTHY, 0.9).ok());
  ASSERT_TRUE(PollUntil(
      [&] {
        auto s = b->server().state().Current();
        return s->dcs[s->topology->DcIndex("eu-fra")].congested;
      },
      absl::Seconds(5)));
  EXPECT_TRUE(SameAnswers(*a, *b, 10));
}

TEST_F(ReplicaTest, TenantPolicySetOnOneReplicaIsSeenOnTheOther) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  auto a = StartReplica(redis_->url());
  auto b = StartReplica(redis_->url());
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ReportAllAndConverge(*a, *b));

  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("globex");
  set.mutable_policy()->set_home_region("jp");
  v1::TenantPolicy stored;
  grpc::ClientContext set_context;
  ASSERT_TRUE(a->admin().SetTenantPolicy(&set_context, set, &stored).ok());

  v1::TenantPolicy seen;
  ASSERT_TRUE(PollUntil(
      [&] {
        v1::GetTenantPolicyRequest get;
        get.set_tenant_id("globex");
        grpc::ClientContext context;
        return b->admin().GetTenantPolicy(&context, get, &seen).ok();
      },
      absl::Seconds(5)));
  EXPECT_EQ(seen.tenant_id(), "globex");
  EXPECT_EQ(seen.home_region(), "jp");
  EXPECT_EQ(seen.allowed_regions_size(), 0);

  // GetDirectory on B honours it: a US client of globex gets Japanese DCs only.
  v1::Directory d;
  ASSERT_TRUE(PollUntil([&] { return b->Get("US", &d, "k", "globex").ok(); }, absl::Seconds(5)));
  ASSERT_GT(d.secondaries_size(), 0);
  EXPECT_EQ(d.primaries_size(), 0);
  for (const auto& dc : d.secondaries()) EXPECT_EQ(dc.region(), "jp") << dc.id();
  EXPECT_TRUE(SameAnswers(*a, *b, 10, "globex"));

  // Deleted on A: gone on B.
  v1::DeleteTenantPolicyRequest del;
  del.set_tenant_id("globex");
  v1::DeleteTenantPolicyResponse deleted;
  grpc::ClientContext del_context;
  ASSERT_TRUE(a->admin().DeleteTenantPolicy(&del_context, del, &deleted).ok());
  ASSERT_TRUE(PollUntil(
      [&] {
        v1::GetTenantPolicyRequest get;
        get.set_tenant_id("globex");
        grpc::ClientContext context;
        return b->admin().GetTenantPolicy(&context, get, &seen).error_code() ==
               grpc::StatusCode::NOT_FOUND;
      },
      absl::Seconds(5)));
}

// What a load thread saw.
struct Observation {
  absl::Time at;
  grpc::StatusCode code;
  bool stale;
};

class LoadThread {
 public:
  explicit LoadThread(Replica* r) : r_(r), thread_([this] { Run(); }) {}
  ~LoadThread() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Observation> observations() {
    std::lock_guard<std::mutex> lock(mu_);
    return observations_;
  }
  int64_t count() const { return count_.load(); }

 private:
  void Run() {
    int k = 0;
    while (!stop_) {
      v1::Directory d;
      grpc::Status s = r_->Get("US", &d, absl::StrCat("load-", k++ % 100));
      std::lock_guard<std::mutex> lock(mu_);
      observations_.push_back({absl::Now(), s.error_code(), d.stale()});
      ++count_;
    }
  }
  Replica* r_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> count_{0};
  std::mutex mu_;
  std::vector<Observation> observations_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

bool AnswersStale(Replica& r, bool stale) {
  v1::Directory d;
  return r.Get("US", &d).ok() && d.stale() == stale;
}

TEST_F(ReplicaTest, RedisKilledUnderLoadServesStaleThenFreshWithoutAFailedGetDirectory) {
  // AOF with fsync on every write: a crashed Redis comes back with its data, like a
  // production Redis with persistence (without it a restart loses every report, and the
  // directory has nothing usable until the agents report again).
  ASSERT_NO_FATAL_FAILURE(StartRedis({"--appendonly", "yes", "--appendfsync", "always"}));
  auto a = StartReplica(redis_->url());
  auto b = StartReplica(redis_->url());
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ReportAllAndConverge(*a, *b));
  EXPECT_EQ(a->Metric("dcdir_store_up"), 1.0);

  LoadThread load_a(a.get());
  LoadThread load_b(b.get());
  ASSERT_TRUE(PollUntil([&] { return load_a.count() > 50 && load_b.count() > 50; },
                        absl::Seconds(5)));

  ASSERT_TRUE(redis_->Kill().ok());
  const absl::Time killed = absl::Now();
  // Noticed within ~1 s (probe every 250 ms, then the next maintenance tick).
  auto to_stale = PollUntil([&] { return AnswersStale(*a, true) && AnswersStale(*b, true); },
                            absl::Seconds(3));
  ASSERT_TRUE(to_stale.has_value()) << "replicas never went stale";
  std::cout << "[ figure ] kill -> stale answers on both replicas: " << *to_stale << std::endl;
  EXPECT_LE(*to_stale, absl::Milliseconds(1500));
  // (The metric is set by the snapshot listener, just after the snapshot is published.)
  EXPECT_TRUE(PollUntil([&] { return a->Metric("dcdir_store_up") == 0.0 &&
                                     b->Metric("dcdir_store_up") == 0.0; },
                        absl::Seconds(1)));
  // Stale answers still carry the last good health.
  v1::Directory d;
  ASSERT_TRUE(b->Get("US", &d).ok());
  EXPECT_EQ(d.primaries_size(), 4);
  // Writes are refused on every replica.
  EXPECT_EQ(a->Report("us-sjc", v1::HEALTH_STATUS_DOWN).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(b->Report("us-sjc", v1::HEALTH_STATUS_DOWN).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("acme");
  set.mutable_policy()->set_home_region("us");
  v1::TenantPolicy stored;
  grpc::ClientContext set_context;
  EXPECT_EQ(b->admin().SetTenantPolicy(&set_context, set, &stored).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Let the load run against the stale replicas for a while.
  const int64_t at_down_a = load_a.count(), at_down_b = load_b.count();
  ASSERT_TRUE(PollUntil([&] { return load_a.count() > at_down_a + 100 &&
                                     load_b.count() > at_down_b + 100; },
                        absl::Seconds(5)));

  ASSERT_TRUE(redis_->Restart().ok());
  const absl::Time restarted = absl::Now();
  auto to_fresh = PollUntil([&] { return AnswersStale(*a, false) && AnswersStale(*b, false); },
                            absl::Seconds(5));
  ASSERT_TRUE(to_fresh.has_value()) << "replicas never answered fresh again";
  std::cout << "[ figure ] restart -> fresh answers on both replicas: " << *to_fresh << std::endl;
  EXPECT_LE(*to_fresh, absl::Seconds(2));
  EXPECT_TRUE(PollUntil([&] { return a->Metric("dcdir_store_up") == 1.0 &&
                                     b->Metric("dcdir_store_up") == 1.0; },
                        absl::Seconds(1)));
  const int64_t at_up_a = load_a.count(), at_up_b = load_b.count();
  ASSERT_TRUE(PollUntil([&] { return load_a.count() > at_up_a + 50 &&
                                     load_b.count() > at_up_b + 50; },
                        absl::Seconds(5)));
  load_a.Stop();
  load_b.Stop();

  // 0 failed GetDirectory; stale exactly while Redis was away (up to detection lag).
  for (LoadThread* load : {&load_a, &load_b}) {
    int failed = 0, stale_while_down = 0, fresh_before_kill = 0, fresh_after = 0;
    int stale_before_kill = 0;
    for (const Observation& o : load->observations()) {
      if (o.code != grpc::StatusCode::OK) ++failed;
      if (o.at < killed) {
        o.stale ? ++stale_before_kill : ++fresh_before_kill;
      } else if (o.at >= killed + *to_stale && o.at < restarted) {
        if (o.stale) ++stale_while_down;
      } else if (o.at >= restarted + *to_fresh) {
        if (!o.stale) ++fresh_after;
      }
    }
    // Calls that started before the fresh snapshot may still answer stale; the last may not.
    ASSERT_FALSE(load->observations().empty());
    EXPECT_FALSE(load->observations().back().stale);
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(stale_before_kill, 0);
    EXPECT_GT(fresh_before_kill, 0);
    EXPECT_GT(stale_while_down, 100);
    EXPECT_GT(fresh_after, 0);
  }

  // The data survived (AOF) and reporting works again; seen on the other replica.
  ASSERT_TRUE(PollUntil([&] { return a->Report("us-iad", v1::HEALTH_STATUS_DOWN).ok(); },
                        absl::Seconds(2)));
  ASSERT_TRUE(PollUntil([&] { return !Offers(*b, "US", "us-iad"); }, absl::Seconds(5)));
  EXPECT_TRUE(Offers(*b, "US", "us-nyc"));
}

TEST_F(ReplicaTest, SentinelFailoverReportingResumesOnThePromotedMaster) {
  auto cluster = SentinelCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto a = StartReplica((*cluster)->url());
  auto b = StartReplica((*cluster)->url());
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ReportAllAndConverge(*a, *b));
  // The replica has everything before the master dies (replication is asynchronous).
  const int replica_port = (*cluster)->replica().port();
  ASSERT_TRUE(PollUntil(
      [&] {
        auto keys = RedisCommand(replica_port, {"DBSIZE"});
        return keys.ok() && *keys == "21";
      },
      absl::Seconds(5)));

  ASSERT_TRUE((*cluster)->master().Kill().ok());
  auto resumed = PollUntil([&] { return a->Report("us-den", v1::HEALTH_STATUS_DOWN).ok(); },
                           absl::Seconds(10), absl::Milliseconds(50));
  ASSERT_TRUE(resumed.has_value()) << "reporting never resumed";
  std::cout << "[ figure ] master killed -> ReportHealth OK on the promoted master: " << *resumed
            << std::endl;
  EXPECT_LE(*resumed, absl::Seconds(5));
  const absl::StatusOr<int> master_port = (*cluster)->SentinelMasterPort();
  ASSERT_TRUE(master_port.ok()) << master_port.status();
  EXPECT_EQ(*master_port, replica_port);
  // The other replica sees the report made on the new master, and nothing was lost.
  ASSERT_TRUE(PollUntil([&] { return !Offers(*b, "US", "us-den"); }, absl::Seconds(5)));
  EXPECT_EQ(StatusOn(*b, "us-den"), core::HealthStatus::kDown);
  EXPECT_TRUE(Offers(*b, "US", "us-nyc"));
  ASSERT_TRUE(PollUntil([&] { return AnswersStale(*b, false); }, absl::Seconds(5)));
  EXPECT_TRUE(SameAnswers(*a, *b, 5));
}

TEST_F(ReplicaTest, MassExpiryStartsSelfPreservationOnEveryReplica) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  auto a = StartReplica(redis_->url());
  auto b = StartReplica(redis_->url());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->Metric("dcdir_self_preservation_active"), 0.0);
  // Every reporter reports once with a 2 s TTL, then "breaks"; us-sjc said DOWN.
  ASSERT_NO_FATAL_FAILURE(ReportAll(*a, v1::HEALTH_STATUS_HEALTHY, absl::Seconds(2)));
  ASSERT_TRUE(a->Report("us-sjc", v1::HEALTH_STATUS_DOWN, 0.1, absl::Seconds(2)).ok());
  ASSERT_TRUE(PollUntil([&] { return StatusOn(*b, "us-sjc") == core::HealthStatus::kDown; },
                        absl::Seconds(2)));

  ASSERT_TRUE(PollUntil(
      [&] {
        return a->Metric("dcdir_self_preservation_active") == 1.0 &&
               b->Metric("dcdir_self_preservation_active") == 1.0;
      },
      absl::Seconds(6)));
  // Both keep serving the last known health: us-sjc still DOWN, the rest usable.
  for (Replica* r : {a.get(), b.get()}) {
    EXPECT_TRUE(r->server().state().self_preservation_active());
    v1::Directory d;
    ASSERT_TRUE(r->Get("US", &d).ok());
    EXPECT_FALSE(d.stale());
    EXPECT_THAT(Ids(d.primaries()),
                ::testing::UnorderedElementsAre("us-den", "us-nyc", "us-iad"));
    EXPECT_EQ(StatusOn(*r, "us-sjc"), core::HealthStatus::kDown);
    // Compliance is untouched: a Chinese DC is never offered outside China.
    for (const char* country : {"US", "DE", "JP"}) {
      ASSERT_TRUE(r->Get(country, &d).ok());
      for (const auto& dc : d.primaries()) EXPECT_NE(dc.region(), "cn");
      for (const auto& dc : d.secondaries()) EXPECT_NE(dc.region(), "cn");
    }
  }
  // Reports come back for 11 of the 21 DCs: the episode ends on both replicas and the 10
  // others are judged by their real expiry.
  const auto ids = AllDcIds();
  for (int i = 0; i < 11; ++i) {
    ASSERT_TRUE(a->Report(ids[i], v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Seconds(60)).ok());
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        return a->Metric("dcdir_self_preservation_active") == 0.0 &&
               b->Metric("dcdir_self_preservation_active") == 0.0;
      },
      absl::Seconds(5)));
  for (Replica* r : {a.get(), b.get()}) {
    EXPECT_EQ(StatusOn(*r, "us-sjc"), core::HealthStatus::kHealthy);
    EXPECT_EQ(StatusOn(*r, ids[11]), core::HealthStatus::kUnknown) << ids[11];
    EXPECT_EQ(StatusOn(*r, "jp-tyo"), core::HealthStatus::kUnknown);
  }
}

TEST_F(ReplicaTest, GarbageInRedisIsSkippedCountedAndSurvived) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  auto a = StartReplica(redis_->url());
  auto b = StartReplica(redis_->url());
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ReportAllAndConverge(*a, *b));
  EXPECT_EQ(b->Metric("dcdir_store_bad_records_total"), 0.0);

  // Straight into Redis, behind dcdir's back.
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:health:us-nyc", "garbage"}).ok());
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:health:jp-tyo", std::string(100 * 1024, 'h')}).ok());
  ASSERT_TRUE(redis_->Command({"DEL", "dcdir:health:eu-ams"}).ok());
  ASSERT_TRUE(redis_->Command({"LPUSH", "dcdir:health:eu-ams", "x"}).ok());
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:health:xx-nowhere",
                               "h1|1|0.1|0|1800000000000000|9800000000000000"})
                  .ok());
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:health:us-iad", "h1|1|NaN|0|1|2"}).ok());
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:tenant:evil", "t1|other|us||0"}).ok());
  ASSERT_TRUE(redis_->Command({"SET", "dcdir:tenant:junk", "\x01\x02\xff"}).ok());
  // Change messages for them, and one that makes no sense (a full resync).
  for (const char* m : {"h:us-nyc", "h:jp-tyo", "h:eu-ams", "h:xx-nowhere", "h:us-iad",
                               "t:evil", "t:junk", "???"}) {
    ASSERT_TRUE(redis_->Command({"PUBLISH", "dcdir:changes", m}).ok());
  }

  ASSERT_TRUE(PollUntil(
      [&] {
        for (Replica* r : {a.get(), b.get()}) {
          if (r->Metric("dcdir_store_bad_records_total").value_or(0) == 0) return false;
          for (const char* dc : {"us-nyc", "jp-tyo", "eu-ams", "us-iad"}) {
            if (StatusOn(*r, dc) != core::HealthStatus::kUnknown) return false;
          }
        }
        return true;
      },
      absl::Seconds(5)));
  for (Replica* r : {a.get(), b.get()}) {
    // Bad records are skipped (as if absent); the good ones are served.
    EXPECT_EQ(StatusOn(*r, "us-nyc"), core::HealthStatus::kUnknown);
    EXPECT_EQ(StatusOn(*r, "jp-tyo"), core::HealthStatus::kUnknown);
    EXPECT_EQ(StatusOn(*r, "us-iad"), core::HealthStatus::kUnknown);
    EXPECT_EQ(StatusOn(*r, "us-sjc"), core::HealthStatus::kHealthy);
    v1::Directory d;
    ASSERT_TRUE(r->Get("US", &d).ok());
    EXPECT_THAT(Ids(d.primaries()), ::testing::UnorderedElementsAre("us-sjc", "us-den"));
    ASSERT_TRUE(r->Get("JP", &d).ok());
    EXPECT_THAT(Ids(d.primaries()), ::testing::ElementsAre("jp-osa"));
    v1::GetTenantPolicyRequest get;
    get.set_tenant_id("evil");
    v1::TenantPolicy p;
    grpc::ClientContext context;
    EXPECT_EQ(r->admin().GetTenantPolicy(&context, get, &p).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // A good write replaces a bad value, everywhere.
  ASSERT_TRUE(a->Report("us-nyc", v1::HEALTH_STATUS_HEALTHY).ok());
  ASSERT_TRUE(PollUntil([&] { return Offers(*b, "US", "us-nyc"); }, absl::Seconds(5)));
}

// The tenant ids `r` lists through AdminService.ListTenantPolicies (one page of up to 1,000, in
// the API's byte order), or {"error CODE"} / {"more pages"} when that is not the whole answer.
std::vector<std::string> ListedTenantIds(Replica& r) {
  v1::ListTenantPoliciesRequest request;
  request.set_page_size(1000);
  v1::ListTenantPoliciesResponse response;
  grpc::ClientContext context;
  const grpc::Status status = r.admin().ListTenantPolicies(&context, request, &response);
  if (!status.ok()) return {absl::StrCat("error ", status.error_code())};
  if (!response.next_page_token().empty()) return {"more pages"};
  std::vector<std::string> ids;
  for (const v1::TenantPolicy& p : response.tenant_policies()) ids.push_back(p.tenant_id());
  return ids;
}

// Tenant records planted straight into Redis under their own keys, with the store's own encoder
// (as another writer would), whose ids the API refuses (core::IsValidTenantId: 1-64 bytes of
// [A-Za-z0-9._-]), are bad records end to end: neither the replica that reads them at start-up
// (LoadAll) nor the one told of them by change messages (point reads) lists them through gRPC,
// each read of one counts once in dcdir_store_bad_records_total, and the good tenants beside
// them (one stored through the API, two planted, one of them at the 64-byte limit) are listed.
TEST_F(ReplicaTest, PlantedTenantIdsTheApiRefusesAreNotListedAndAreCounted) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  runtime::DirectoryStateOptions state;
  state.full_resync_interval = absl::Hours(1);  // no periodic full read: the counts are exact
  auto a = StartReplica(redis_->url(), state);
  ASSERT_TRUE(a);
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("acme");
  set.mutable_policy()->set_home_region("us");
  v1::TenantPolicy stored;
  grpc::ClientContext set_context;
  ASSERT_TRUE(a->admin().SetTenantPolicy(&set_context, set, &stored).ok());
  ASSERT_TRUE(PollUntil([&] { return a->store().Subscribed(); }, absl::Seconds(5)));
  EXPECT_EQ(ListedTenantIds(*a), (std::vector<std::string>{"acme"}));
  EXPECT_EQ(a->Metric("dcdir_store_bad_records_total"), 0.0);

  const std::vector<std::string> good = {"planted-ok", std::string(64, 'x')};
  const std::vector<std::string> bad = {
      "bad id!",             // a space and a '!'
      std::string(65, 'y'),  // one byte past the limit
      "a|b",                 // the value codec's separator (escaped in the value)
      "a\001b",              // a control character
  };
  for (const std::vector<std::string>* ids : {&good, &bad}) {
    for (const std::string& id : *ids) {
      core::TenantPolicy p;
      p.tenant_id = id;
      p.home_region = "eu";
      p.allowed_regions = {"us"};
      p.updated_at = absl::FromUnixSeconds(1'800'000'000);
      ASSERT_TRUE(
          redis_->Command({"SET", a->store().TenantKey(id), store::EncodeTenantPolicy(p)}).ok());
      // What PutTenant would announce: A reads each id once.
      ASSERT_TRUE(redis_->Command({"PUBLISH", "dcdir:changes", "t:" + id}).ok());
    }
  }
  const std::vector<std::string> listed = {"acme", "planted-ok", std::string(64, 'x')};
  const double kBad = static_cast<double>(bad.size());
  ASSERT_TRUE(PollUntil(
      [&] {
        return ListedTenantIds(*a) == listed && a->Metric("dcdir_store_bad_records_total") == kBad;
      },
      absl::Seconds(5)))
      << "A lists " << absl::CEscape(absl::StrJoin(ListedTenantIds(*a), ",")) << "; bad records "
      << a->Metric("dcdir_store_bad_records_total").value_or(-1);

  // B reads them all at start-up.
  auto b = StartReplica(redis_->url(), state);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->store().BadRecords(), bad.size());
  EXPECT_EQ(ListedTenantIds(*b), listed);
  ASSERT_TRUE(PollUntil([&] { return b->Metric("dcdir_store_bad_records_total") == kBad; },
                        absl::Seconds(5)))
      << "B's bad records: " << b->Metric("dcdir_store_bad_records_total").value_or(-1);

  // Both still serve: the good planted tenant's policy applies (home eu, us allowed).
  for (Replica* r : {a.get(), b.get()}) {
    v1::GetTenantPolicyRequest get;
    get.set_tenant_id("planted-ok");
    v1::TenantPolicy p;
    grpc::ClientContext context;
    ASSERT_TRUE(r->admin().GetTenantPolicy(&context, get, &p).ok());
    EXPECT_EQ(p.home_region(), "eu");
    EXPECT_THAT(p.allowed_regions(), ::testing::ElementsAre("us"));
  }
  EXPECT_EQ(a->Metric("dcdir_store_bad_records_total"), kBad);  // nothing read them again
}

// Reads `path` until it contains "listening on HOST:PORT"; the port.
std::optional<int> ListeningPort(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string log = buffer.str();
  const std::string marker = "listening on 127.0.0.1:";
  const size_t at = log.find(marker);
  if (at == std::string::npos) return std::nullopt;
  size_t end = at + marker.size();
  while (end < log.size() && std::isdigit(static_cast<unsigned char>(log[end]))) ++end;
  int port = 0;
  if (!absl::SimpleAtoi(log.substr(at + marker.size(), end - at - marker.size()), &port)) {
    return std::nullopt;
  }
  return port;
}

TEST_F(ReplicaTest, SpawnedServerBinaryServesFromRedisNextToAnInProcessReplica) {
  ASSERT_NO_FATAL_FAILURE(StartRedis());
  auto a = StartReplica(redis_->url());
  ASSERT_TRUE(a);
  ASSERT_NO_FATAL_FAILURE(ReportAll(*a, v1::HEALTH_STATUS_HEALTHY));

  const std::string dir = MakeTempDir("dcdir-replica");  // removed at exit
  ASSERT_FALSE(dir.empty());
  const std::string log_path = dir + "/server.log";
  const std::vector<std::string> args = {DCDIR_SERVER_BINARY,
                                         "--config=" + ExampleWorldPath(),
                                         "--redis=" + redis_->url(),
                                         "--grpc_host=127.0.0.1",
                                         "--grpc_port=0",
                                         "--metrics_port=0",
                                         "--shutdown_grace=1s"};
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const std::string& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::optional<int> port;
  const bool listening = PollUntil([&] { return (port = ListeningPort(log_path)).has_value(); },
                                   absl::Seconds(10), absl::Milliseconds(10))
                             .has_value();
  if (!listening) ::kill(pid, SIGKILL);
  ASSERT_TRUE(listening) << "dcdir-server did not start; its log:\n"
                         << std::string(std::istreambuf_iterator<char>(std::ifstream(log_path).rdbuf()), {});

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port),
                                     grpc::InsecureChannelCredentials());
  auto directory = v1::DirectoryService::NewStub(channel);
  auto get = [&](const std::string& country, v1::Directory* d) {
    v1::GetDirectoryRequest request;
    request.set_client_country(country);
    request.set_client_id("k");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    return directory->GetDirectory(&context, request, d);
  };
  // It loaded the reports from Redis at start-up and serves them.
  v1::Directory d;
  EXPECT_TRUE(PollUntil([&] { return get("JP", &d).ok(); }, absl::Seconds(5)).has_value());
  EXPECT_THAT(Ids(d.primaries()), ::testing::UnorderedElementsAre("jp-tyo", "jp-osa"));
  EXPECT_FALSE(d.stale());
  // A report on the in-process replica reaches the other process.
  ASSERT_TRUE(a->Report("jp-osa", v1::HEALTH_STATUS_DOWN).ok());
  EXPECT_TRUE(PollUntil(
                  [&] {
                    return get("JP", &d).ok() && d.primaries_size() == 1 &&
                           d.primaries(0).id() == "jp-tyo";
                  },
                  absl::Seconds(5))
                  .has_value());
  v1::Directory from_a;
  ASSERT_TRUE(a->Get("JP", &from_a).ok());
  EXPECT_EQ(Ids(d.secondaries()), Ids(from_a.secondaries()));

  // SIGTERM under load: in-flight calls finish; calls that arrive during the drain are refused
  // (UNAVAILABLE once the port is closed; gRPC answers CANCELLED to one that arrives while the
  // server is shutting down); nothing fails otherwise, and the process exits 0.
  std::atomic<bool> stop{false};
  std::atomic<int> ok_calls{0}, refused_calls{0}, other_calls{0};
  std::mutex other_mu;
  std::string other_errors;
  std::vector<std::thread> load;
  for (int i = 0; i < 4; ++i) {
    load.emplace_back([&] {
      while (!stop.load()) {
        v1::Directory answer;
        const grpc::Status s = get("JP", &answer);
        if (s.ok()) {
          ++ok_calls;
        } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                   s.error_code() == grpc::StatusCode::CANCELLED) {
          ++refused_calls;
        } else {
          ++other_calls;
          std::lock_guard<std::mutex> lock(other_mu);
          absl::StrAppend(&other_errors, s.error_code(), " ", s.error_message(), "; ");
        }
      }
    });
  }
  ASSERT_TRUE(PollUntil([&] { return ok_calls.load() >= 200; }, absl::Seconds(10)).has_value());
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  const bool exited = PollUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                                absl::Seconds(10), absl::Milliseconds(10))
                          .has_value();
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  stop = true;
  for (std::thread& t : load) t.join();
  ASSERT_TRUE(exited);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(other_calls.load(), 0) << "ok " << ok_calls << ", refused " << refused_calls
                                   << ", others: " << other_errors;
  EXPECT_GT(refused_calls.load(), 0);  // the load went on past the shutdown
}

}  // namespace
}  // namespace dcdir::testing
