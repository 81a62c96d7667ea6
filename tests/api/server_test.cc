// Service tests: a real gRPC server in-process on 127.0.0.1:0, every RPC, every error code.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <cmath>
#include <map>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/source_address.h"
#include "service/store/in_memory_store.h"
#include "tests/testing/flaky_store.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/notification.h"
#include "tests/testing/poll.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"

namespace dcdir {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Ids;
using testing::MetricValue;
using testing::ReasonOf;
using testing::RpcOutcome;
using testing::StatusIs;
using testing::TestServer;

const std::vector<std::string> kUsDcs = {"us-sjc", "us-den", "us-nyc", "us-iad"};

TEST(DirectoryServiceTest, AnswersWithRankedPrimariesAndSecondaries) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory d;
  ASSERT_TRUE(t.Get("us", &d).ok());  // lower case is accepted
  EXPECT_EQ(d.client_region(), "us");
  EXPECT_THAT(Ids(d.primaries()), ::testing::UnorderedElementsAre("us-sjc", "us-den", "us-nyc",
                                                                  "us-iad"));
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_FALSE(d.fallback_active());
  EXPECT_EQ(d.secondary_attempts(), 2u);
  EXPECT_EQ(d.ttl().seconds(), 60);
  EXPECT_FALSE(d.stale());
  EXPECT_GT(d.snapshot_version(), 0u);
  EXPECT_EQ(d.generated_at().seconds(), absl::ToUnixSeconds(t.clock().Now()));
  EXPECT_FALSE(d.primaries(0).cross_border());
  EXPECT_TRUE(d.secondaries(0).cross_border());
  EXPECT_EQ(d.secondaries(0).country(), "CA");
  EXPECT_EQ(d.secondaries(0).status(), v1::HEALTH_STATUS_HEALTHY);
  EXPECT_THAT(d.secondaries(0).endpoints(), ElementsAre("gw.ca-yyz.dcdir.example:443"));
}

TEST(DirectoryServiceTest, SameClientIdSameOrderAndClientsAreSpread) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory a, b;
  ASSERT_TRUE(t.Get("US", &a, nullptr, "", "client-42").ok());
  ASSERT_TRUE(t.Get("US", &b, nullptr, "", "client-42").ok());
  EXPECT_EQ(Ids(a.primaries()), Ids(b.primaries()));
  std::set<std::string> firsts;
  for (int i = 0; i < 200; ++i) {
    v1::Directory d;
    ASSERT_TRUE(t.Get("US", &d, nullptr, "", "client-" + std::to_string(i)).ok());
    firsts.insert(d.primaries(0).id());
  }
  EXPECT_EQ(firsts.size(), 4u);  // every US DC is somebody's first choice
}

TEST(DirectoryServiceTest, UsOutageFallsBackToCanadaAndCountsCrossBorder) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  t.Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  v1::Directory d;
  ASSERT_TRUE(t.Get("US", &d).ok());
  EXPECT_TRUE(d.primaries().empty());
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_TRUE(d.fallback_active());
  for (const auto& dc : d.secondaries()) {
    EXPECT_TRUE(dc.cross_border()) << dc.id();
    EXPECT_NE(dc.region(), "cn") << "a US client must never be sent to mainland China";
  }
  // Only the first secondary_attempts (2) secondaries count, both in region ca.
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_cross_border_fallback_total",
                        {{"client_region", "us"}, {"dc_region", "ca"}}),
            2.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_cross_border_fallback_total",
                        {{"client_region", "us"}, {"dc_region", "latam"}}),
            0.0);
  // A pair the config does not name (us clients, jp DCs) has no series until first counted.
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_cross_border_fallback_total",
                        {{"client_region", "us"}, {"dc_region", "jp"}}),
            std::nullopt);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_fallback_responses_total", {{"client_region", "us"}}),
            1.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_directory_requests_total",
                        {{"client_region", "us"}, {"code", "OK"}}),
            1.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_datacenter_up",
                        {{"datacenter", "us-sjc"}, {"region", "us"}}),
            0.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_datacenter_up",
                        {{"datacenter", "ca-yyz"}, {"region", "ca"}}),
            1.0);
}

TEST(DirectoryServiceTest, ChinaOutageIsUnavailableNeverAbroad) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  t.Report(v1::HEALTH_STATUS_DOWN, {"cn-pek", "cn-sha"});
  v1::Directory d;
  std::string reason;
  grpc::Status s = t.Get("CN", &d, &reason);
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NO_HEALTHY_COMPLIANT_DATACENTER"));
  EXPECT_THAT(s.error_message(), HasSubstr("retry later"));
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_directory_requests_total",
                        {{"client_region", "cn"}, {"code", "UNAVAILABLE"}}),
            1.0);
  // The nearest DCs abroad would have topped the list up: withheld by cn-residency.
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_compliance_exclusions_total",
                        {{"rule", "cn-residency"}}),
            2.0);
}

TEST(DirectoryServiceTest, EmptyStoreMeansUnavailable) {
  TestServer t;
  v1::Directory d;
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("DE", &d, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NO_HEALTHY_COMPLIANT_DATACENTER"));
}

TEST(DirectoryServiceTest, UnmappedCountryUsesTheDefaultRegion) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory d;
  ASSERT_TRUE(t.Get("ZA", &d).ok());
  EXPECT_EQ(d.client_region(), "us");
  EXPECT_TRUE(d.primaries(0).cross_border());
}

TEST(DirectoryServiceTest, InvalidRequestsGetInvalidArgumentWithReason) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  struct Case {
    v1::GetDirectoryRequest request;
    std::string reason;
  };
  std::vector<Case> cases(6);
  cases[0].request.set_client_country("");
  cases[0].reason = "INVALID_COUNTRY";
  cases[1].request.set_client_country("USA");
  cases[1].reason = "INVALID_COUNTRY";
  cases[2].request.set_client_country("U1");
  cases[2].reason = "INVALID_COUNTRY";
  cases[3].request.set_client_country("US");
  cases[3].request.set_tenant_id("bad tenant!");
  cases[3].reason = "INVALID_TENANT_ID";
  cases[4].request.set_client_country("US");
  cases[4].request.set_client_id(std::string(129, 'k'));
  cases[4].reason = "INVALID_CLIENT_ID";
  cases[5].request.set_client_country("US");
  cases[5].request.set_max_secondaries(65);
  cases[5].reason = "INVALID_MAX_SECONDARIES";
  for (const Case& c : cases) {
    grpc::ClientContext context;
    v1::Directory d;
    grpc::Status s = t.directory().GetDirectory(&context, c.request, &d);
    EXPECT_THAT((RpcOutcome{s, ReasonOf(context)}),
                StatusIs(grpc::StatusCode::INVALID_ARGUMENT, c.reason));
    EXPECT_FALSE(s.error_message().empty());
  }
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_directory_requests_total",
                        {{"client_region", "unknown"}, {"code", "INVALID_ARGUMENT"}}),
            6.0);
  // The server keeps serving.
  v1::Directory d;
  EXPECT_TRUE(t.Get("US", &d).ok());
}

TEST(DirectoryServiceTest, MaxSecondariesCutsTheList) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_max_secondaries(1);
  grpc::ClientContext context;
  v1::Directory d;
  ASSERT_TRUE(t.directory().GetDirectory(&context, request, &d).ok());
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz"));
}

TEST(DirectoryServiceTest, TenantControlRestrictsAndFailsClosed) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("acme");
  set.mutable_policy()->set_home_region("us");
  set.mutable_policy()->add_allowed_regions("ca");
  v1::TenantPolicy stored;
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());
  v1::Directory d;
  ASSERT_TRUE(t.Get("US", &d, nullptr, "acme").ok());
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz", "ca-yvr"));  // mx-qro, eu-ams gone

  // globex: home jp only; a German client may only use EU DCs (eu-residency): nothing left.
  set.mutable_policy()->set_tenant_id("globex");
  set.mutable_policy()->set_home_region("jp");
  set.mutable_policy()->clear_allowed_regions();
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("DE", &d, &reason, "globex"), reason}),
              StatusIs(grpc::StatusCode::FAILED_PRECONDITION, "NO_COMPLIANT_DATACENTER"));
}

TEST(DirectoryServiceTest, ReportsExpireAfterTheirTtl) {
  // Every DC expiring at once is a mass expiry, which self-preservation would cover
  // (tests/runtime): this test is about plain expiry.
  TestServer t({.self_preservation = false});
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory d;
  ASSERT_TRUE(t.Get("JP", &d).ok());
  t.clock().Advance(absl::Seconds(31));  // default TTL is 30 s
  t.server().state().Refresh();
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("JP", &d, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NO_HEALTHY_COMPLIANT_DATACENTER"));
}

TEST(ExplainDirectoryTest, GivesEveryDcItsVerdictAndReason) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  t.Report(v1::HEALTH_STATUS_DOWN, {"us-sjc"});
  t.Report(v1::HEALTH_STATUS_DRAINING, {"us-den"});
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("acme");
  set.mutable_policy()->set_home_region("us");
  set.mutable_policy()->add_allowed_regions("ca");
  v1::TenantPolicy stored;
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_tenant_id("acme");
  v1::DirectoryExplanation e;
  ASSERT_TRUE(t.directory().ExplainDirectory(t.AuthContext().get(), request, &e).ok());
  EXPECT_EQ(e.outcome(), "OK");
  EXPECT_EQ(e.client_region(), "us");
  EXPECT_EQ(e.tenant_policy().tenant_id(), "acme");
  ASSERT_EQ(e.datacenters_size(), 21);
  std::map<std::string, v1::DataCenterVerdict> by_id;
  for (const auto& v : e.datacenters()) by_id[v.datacenter().id()] = v;
  EXPECT_EQ(by_id["us-sjc"].verdict(), v1::VERDICT_EXCLUDED);
  EXPECT_EQ(by_id["us-sjc"].reason(), v1::VERDICT_REASON_STATUS);
  EXPECT_EQ(by_id["us-sjc"].detail(), "reported HEALTH_STATUS_DOWN");
  EXPECT_EQ(by_id["us-den"].reason(), v1::VERDICT_REASON_STATUS);
  EXPECT_EQ(by_id["us-nyc"].verdict(), v1::VERDICT_PRIMARY);
  EXPECT_EQ(by_id["ca-yyz"].verdict(), v1::VERDICT_SECONDARY);
  EXPECT_EQ(by_id["ca-yyz"].rank(), 1u);
  EXPECT_EQ(by_id["cn-pek"].reason(), v1::VERDICT_REASON_DENY_RULE);
  EXPECT_EQ(by_id["cn-pek"].rule(), "cn-sovereign");
  EXPECT_EQ(by_id["mx-qro"].reason(), v1::VERDICT_REASON_TENANT_CONTROL);
  EXPECT_EQ(by_id["jp-tyo"].reason(), v1::VERDICT_REASON_TENANT_CONTROL);
  EXPECT_EQ(e.directory().client_region(), "us");

  // Expired reports are explained as such, and the would-be error is the outcome.
  t.clock().Advance(absl::Minutes(1));
  t.server().state().Refresh();
  ASSERT_TRUE(t.directory().ExplainDirectory(t.AuthContext().get(), request, &e).ok());
  EXPECT_EQ(e.outcome(), "UNAVAILABLE");
  EXPECT_EQ(e.outcome_reason(), "NO_HEALTHY_COMPLIANT_DATACENTER");
  for (const auto& v : e.datacenters()) {
    if (v.datacenter().id() == "us-nyc") {
      EXPECT_EQ(v.reason(), v1::VERDICT_REASON_EXPIRED);
      EXPECT_EQ(v.detail(), "last health report expired");
    }
  }
}

TEST(ExplainDirectoryTest, RejectsInvalidCountry) {
  TestServer t;
  v1::GetDirectoryRequest request;
  request.set_client_country("1");
  auto context = t.AuthContext();
  v1::DirectoryExplanation e;
  EXPECT_THAT((RpcOutcome{t.directory().ExplainDirectory(context.get(), request, &e),
                          ReasonOf(*context)}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_COUNTRY"));
}

// Per-DC verdicts name deny rules and a tenant's stored policy: an operator RPC. Without the
// admin token, or with a wrong one, nothing is explained.
TEST(ExplainDirectoryTest, RequiresTheAdminToken) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_tenant_id("acme");
  {
    grpc::ClientContext context;
    v1::DirectoryExplanation e;
    EXPECT_THAT((RpcOutcome{t.directory().ExplainDirectory(&context, request, &e),
                            ReasonOf(context)}),
                StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"));
    EXPECT_EQ(e.datacenters_size(), 0);
  }
  {
    auto context = t.AuthContext("not-the-token");
    v1::DirectoryExplanation e;
    EXPECT_THAT((RpcOutcome{t.directory().ExplainDirectory(context.get(), request, &e),
                            ReasonOf(*context)}),
                StatusIs(grpc::StatusCode::UNAUTHENTICATED, "INVALID_CREDENTIALS"));
    EXPECT_EQ(e.datacenters_size(), 0);
  }
  // GetDirectory stays anonymous.
  grpc::ClientContext context;
  v1::Directory d;
  EXPECT_TRUE(t.directory().GetDirectory(&context, request, &d).ok());
}

TEST(WatchDirectoryTest, SendsCurrentAnswerThenOnlyChanges) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("watcher");
  grpc::ClientContext context;
  auto reader = t.directory().WatchDirectory(&context, request);
  v1::Directory d;
  ASSERT_TRUE(reader->Read(&d));
  EXPECT_EQ(d.primaries_size(), 4);
  EXPECT_FALSE(d.fallback_active());
  // A report that changes nothing visible (same status, same congestion) sends nothing;
  // the next message must be the outage.
  t.Report(v1::HEALTH_STATUS_HEALTHY, {"au-syd"});
  t.Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  ASSERT_TRUE(reader->Read(&d));
  // Reports are applied one by one: read until the outage is complete.
  while (d.primaries_size() > 0) ASSERT_TRUE(reader->Read(&d));
  EXPECT_TRUE(d.fallback_active());
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&d));
}

TEST(WatchDirectoryTest, EndsWithTheErrorWhenThereIsNoAnswer) {
  TestServer t;
  v1::GetDirectoryRequest request;
  request.set_client_country("CN");
  grpc::ClientContext context;
  auto reader = t.directory().WatchDirectory(&context, request);
  v1::Directory d;
  EXPECT_FALSE(reader->Read(&d));
  grpc::Status s = reader->Finish();
  EXPECT_THAT((RpcOutcome{s, ReasonOf(context)}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NO_HEALTHY_COMPLIANT_DATACENTER"));
}

TEST(ReportingServiceTest, ReportHealthValidatesEveryField) {
  TestServer t;
  struct Case {
    std::string dc;
    v1::HealthStatus status;
    double congestion;
    int64_t ttl_seconds;
    grpc::StatusCode code;
    std::string reason;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Case> cases = {
      {"us-sjc", v1::HEALTH_STATUS_UNSPECIFIED, 0, 0, grpc::INVALID_ARGUMENT, "INVALID_STATUS"},
      {"us-sjc", v1::HEALTH_STATUS_UNKNOWN, 0, 0, grpc::INVALID_ARGUMENT, "INVALID_STATUS"},
      {"us-sjc", v1::HEALTH_STATUS_HEALTHY, nan, 0, grpc::INVALID_ARGUMENT, "INVALID_CONGESTION"},
      {"us-sjc", v1::HEALTH_STATUS_HEALTHY, 1.5, 0, grpc::INVALID_ARGUMENT, "INVALID_CONGESTION"},
      {"us-sjc", v1::HEALTH_STATUS_HEALTHY, -0.1, 0, grpc::INVALID_ARGUMENT, "INVALID_CONGESTION"},
      {"us-sjc", v1::HEALTH_STATUS_HEALTHY, 0, -5, grpc::INVALID_ARGUMENT, "INVALID_TTL"},
      {"us-sjc", v1::HEALTH_STATUS_HEALTHY, 0, 7200, grpc::INVALID_ARGUMENT, "INVALID_TTL"},
      {"", v1::HEALTH_STATUS_HEALTHY, 0, 0, grpc::INVALID_ARGUMENT, "INVALID_DATACENTER_ID"},
      {"mars-1", v1::HEALTH_STATUS_HEALTHY, 0, 0, grpc::NOT_FOUND, "UNKNOWN_DATACENTER"},
  };
  for (const Case& c : cases) {
    v1::HealthReport report;
    report.set_datacenter_id(c.dc);
    report.set_status(c.status);
    report.set_congestion(c.congestion);
    report.mutable_ttl()->set_seconds(c.ttl_seconds);
    auto context = t.AuthContext();
    v1::ReportHealthResponse response;
    grpc::Status s = t.reporting().ReportHealth(context.get(), report, &response);
    EXPECT_THAT((RpcOutcome{s, ReasonOf(*context)}),
                StatusIs(c.code, c.reason));
  }
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total", {{"result", "invalid"}}), 8.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total",
                        {{"result", "unknown_datacenter"}}),
            1.0);
  // Nothing was stored: no DC is usable.
  v1::Directory d;
  EXPECT_EQ(t.Get("US", &d).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A store on its own timeline (like RedisStore: SharedTime() is the store's time) whose time
// sample moves by `shift` while a health write is under way: what happens when the store
// stalls for 2.8 s and a probe's TIME sample, taken across the stall, is off by half of it.
class ResamplingStore final : public store::Store {
 public:
  explicit ResamplingStore(absl::Duration shift) : shift_(shift) {}
  absl::StatusOr<store::StoreState> LoadAll() override { return inner_.LoadAll(); }
  absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view id) override {
    return inner_.GetHealth(id);
  }
  absl::Status PutHealth(std::string_view id, const core::HealthRecord& r) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      time_ += shift_;
      stored_ = r;
    }
    return inner_.PutHealth(id, r);
  }
  absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(std::string_view id) override {
    return inner_.GetTenant(id);
  }
  absl::Status PutTenant(const core::TenantPolicy& p) override { return inner_.PutTenant(p); }
  absl::StatusOr<bool> DeleteTenant(std::string_view id) override {
    return inner_.DeleteTenant(id);
  }
  void SetChangeListener(std::function<void(const store::Change&)> listener) override {
    inner_.SetChangeListener(std::move(listener));
  }
  bool Available() const override { return true; }
  std::optional<absl::Time> SharedTime() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return time_;
  }
  // The last record written.
  core::HealthRecord stored() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_;
  }

 private:
  const absl::Duration shift_;
  mutable std::mutex mu_;
  absl::Time time_ = absl::FromUnixSeconds(1'700'000'000);  // guarded by mu_
  core::HealthRecord stored_;                                // guarded by mu_
  store::InMemoryStore inner_;
};

// The response's expire_time is the stored expiry shown on the wall clock with the offset of the
// same time reading, not with one taken after the write (which the stall moved by 1.4 s).
TEST(ReportingServiceTest, ExpireTimeIsTheStoredOneWhenTheStoreTimeMovesDuringTheWrite) {
  ResamplingStore store(absl::Milliseconds(1400));
  TestServer t({.store = &store});
  const absl::Time store_time_at_report = *store.SharedTime();
  v1::HealthReport report;
  report.set_datacenter_id("eu-fra");
  report.set_status(v1::HEALTH_STATUS_HEALTHY);
  report.set_congestion(0.1);
  report.mutable_ttl()->set_seconds(10);
  v1::ReportHealthResponse response;
  ASSERT_TRUE(t.reporting().ReportHealth(t.AuthContext().get(), report, &response).ok());
  const core::HealthRecord stored = store.stored();
  ASSERT_EQ(stored.reported_at, store_time_at_report);
  ASSERT_EQ(stored.expires_at, store_time_at_report + absl::Seconds(10));
  ASSERT_EQ(*store.SharedTime(), store_time_at_report + absl::Milliseconds(1400));
  // The fake wall clock did not move: the report expires 10 s after it, to the nanosecond.
  const absl::Time want = t.clock().Now() + absl::Seconds(10);
  EXPECT_EQ(response.expire_time().seconds(), absl::ToUnixSeconds(want));
  EXPECT_EQ(response.expire_time().nanos(), absl::ToUnixNanos(want) % 1'000'000'000);
}

TEST(ReportingServiceTest, ReportHealthAppliesTtlAndHysteresis) {
  TestServer t;
  v1::HealthReport report;
  report.set_datacenter_id("eu-fra");
  report.set_status(v1::HEALTH_STATUS_HEALTHY);
  report.set_congestion(0.9);
  report.mutable_ttl()->set_seconds(10);
  v1::ReportHealthResponse response;
  ASSERT_TRUE(t.reporting().ReportHealth(t.AuthContext().get(), report, &response).ok());
  EXPECT_TRUE(response.congested());
  EXPECT_EQ(response.expire_time().seconds(), absl::ToUnixSeconds(t.clock().Now()) + 10);
  report.set_congestion(0.75);  // between the thresholds: stays congested
  ASSERT_TRUE(t.reporting().ReportHealth(t.AuthContext().get(), report, &response).ok());
  EXPECT_TRUE(response.congested());
  report.set_congestion(0.6);  // below 0.70: leaves
  ASSERT_TRUE(t.reporting().ReportHealth(t.AuthContext().get(), report, &response).ok());
  EXPECT_FALSE(response.congested());
}

// Store writes run on the store queue, never on the threads that answer: with every write hung
// in the store, GetDirectory still answers, the queue holds its bounded backlog, and a write
// beyond it is refused at once with UNAVAILABLE STORE_UNAVAILABLE (counted). On release, every
// queued report is applied.
TEST(StoreQueueTest, AnswersNeverWaitForHungStoreWritesAndTheBacklogIsBounded) {
  testing::FlakyStore store;
  constexpr int kBacklog = 8;
  TestServer t({.store = &store, .store_write_backlog = kBacklog});
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  store.HoldWrites(true);

  constexpr int kReports = kBacklog + 1 + 30;  // the backlog, its thread, and 30 more
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::map<std::pair<grpc::StatusCode, std::string>, int> outcomes;  // (code, reason) -> calls
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::ReportHealthResponse> responses(kReports);
  v1::HealthReport report;
  report.set_datacenter_id("eu-fra");
  report.set_status(v1::HEALTH_STATUS_DOWN);
  report.mutable_ttl()->set_seconds(60);
  for (int i = 0; i < kReports; ++i) {
    contexts.push_back(t.AuthContext());
    grpc::ClientContext* context = contexts.back().get();
    t.reporting().async()->ReportHealth(context, &report, &responses[i],
                                        [&, context](grpc::Status s) {
                                          std::lock_guard<std::mutex> lock(mu);
                                          ++outcomes[{s.error_code(), ReasonOf(*context)}];
                                          ++finished;
                                          cv.notify_all();
                                        });
  }
  {
    // The calls beyond the backlog are refused at once, while the store still hangs.
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return finished >= 30; }));
    EXPECT_EQ((outcomes[{grpc::StatusCode::OK, ""}]), 0) << "no write finished while held";
  }
  // The queue's one thread waits in the store.
  EXPECT_TRUE(testing::PollUntil([&] { return store.held_writes() == 1; }, absl::Seconds(10)));

  // Answers come from memory while every write hangs.
  grpc::ClientContext get_context;
  get_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetDirectoryRequest get;
  get.set_client_country("DE");
  v1::Directory directory;
  EXPECT_TRUE(t.directory().GetDirectory(&get_context, get, &directory).ok());
  EXPECT_THAT(Ids(directory.primaries()), Contains("eu-fra")) << "no DOWN report is applied yet";

  store.HoldWrites(false);
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return finished == kReports; }));
  // Accepted: the backlog plus the call (0 or 1) the queue's thread had taken off it by the
  // time the flood's last call arrived; every other call is refused, and nothing else happens.
  const int refused = outcomes[{grpc::StatusCode::UNAVAILABLE, "STORE_UNAVAILABLE"}];
  const int accepted = outcomes[{grpc::StatusCode::OK, ""}];
  EXPECT_GE(accepted, kBacklog);
  EXPECT_LE(accepted, kBacklog + 1);
  EXPECT_EQ(accepted + refused, kReports);
  lock.unlock();
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total",
                        {{"result", "store_unavailable"}}),
            refused);
  const double datacenters = t.server().state().Current()->topology->world().datacenters.size();
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total", {{"result", "accepted"}}),
            datacenters + accepted);
  v1::Directory after;
  ASSERT_TRUE(t.Get("DE", &after).ok());
  EXPECT_THAT(Ids(after.primaries()), Not(Contains("eu-fra")));
  EXPECT_THAT(Ids(after.secondaries()), Not(Contains("eu-fra")));
}

// A write whose caller gave up while it waited in the store queue is not sent to the store.
TEST(StoreQueueTest, AWriteWhoseCallerLeftWhileQueuedIsNotWritten) {
  testing::FlakyStore store;
  TestServer t({.store = &store});
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  auto report = [](const std::string& dc, v1::HealthStatus status) {
    v1::HealthReport r;
    r.set_datacenter_id(dc);
    r.set_status(status);
    r.set_congestion(0.1);
    return r;
  };
  store.HoldWrites(true);
  // The queue's thread takes this one and waits in the store.
  auto held_context = t.AuthContext();
  const v1::HealthReport held = report("eu-fra", v1::HEALTH_STATUS_HEALTHY);
  v1::ReportHealthResponse held_response;
  testing::Notification held_done;
  grpc::Status held_status;
  t.reporting().async()->ReportHealth(held_context.get(), &held, &held_response,
                                      [&](grpc::Status s) {
                                        held_status = std::move(s);
                                        held_done.Notify();
                                      });
  ASSERT_TRUE(testing::PollUntil([&] { return store.held_writes() == 1; }, absl::Seconds(10)));
  // This one waits in the queue until its deadline passes.
  auto late = t.AuthContext();
  late->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v1::ReportHealthResponse late_response;
  EXPECT_EQ(t.reporting()
                .ReportHealth(late.get(), report("eu-ams", v1::HEALTH_STATUS_DOWN), &late_response)
                .error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's copy of the deadline is the client's plus the request's one-way delay.
  absl::SleepFor(absl::Milliseconds(50));
  store.HoldWrites(false);
  held_done.WaitForNotification();
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  // A report queued after the abandoned one: once it is answered, the queue has passed it.
  auto after = t.AuthContext();
  v1::ReportHealthResponse after_response;
  ASSERT_TRUE(t.reporting()
                  .ReportHealth(after.get(), report("eu-fra", v1::HEALTH_STATUS_HEALTHY),
                                &after_response)
                  .ok());
  v1::Directory d;
  ASSERT_TRUE(t.Get("DE", &d).ok());
  std::vector<std::string> all = Ids(d.primaries());
  for (const std::string& id : Ids(d.secondaries())) all.push_back(id);
  EXPECT_THAT(all, Contains("eu-ams")) << "the abandoned DOWN report was not written";
}

// Sends `bytes` as the request of `method` through a generic stub (as a hand-made client could).
grpc::Status RawUnaryCall(TestServer& t, const std::string& method, const std::string& bytes,
                          std::string* reason) {
  grpc::GenericStub stub(t.channel());
  auto context = t.AuthContext();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<grpc::Status> status;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return status.has_value(); });
  *reason = ReasonOf(*context);
  return *status;
}

// A request gRPC cannot parse into the RPC's message (here a string field that is not UTF-8,
// which generated clients refuse to send) is answered INVALID_ARGUMENT UNPARSABLE_REQUEST and
// counted per RPC, not gRPC's bare UNIMPLEMENTED. GetDirectory, the hot path, is left out (an
// interceptor there costs ~13% of its throughput) and keeps UNIMPLEMENTED with no series; an
// unknown method stays UNIMPLEMENTED and adds no series; the server keeps serving.
TEST(UnparsableRequestTest, IsInvalidArgumentWithAReasonAndCountedPerRpc) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  const std::string not_utf8("\x0a\x02\xff\xfe", 4);  // field 1 (a string), 2 bytes
  // SetTenantPolicyRequest{policy (1) = TenantPolicy{tenant_id (1) = not UTF-8}}
  const std::string nested("\x0a\x04\x0a\x02\xff\xfe", 6);
  std::string reason;
  grpc::Status s = RawUnaryCall(t, "/dcdir.v1.ReportingService/ReportHealth", not_utf8, &reason);
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "UNPARSABLE_REQUEST"));
  EXPECT_THAT(s.error_message(),
              HasSubstr("could not be parsed as the message of "
                        "/dcdir.v1.ReportingService/ReportHealth"));
  s = RawUnaryCall(t, "/dcdir.v1.ReportingService/ReportHealth", not_utf8, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = RawUnaryCall(t, "/dcdir.v1.AdminService/SetTenantPolicy", nested, &reason);
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "UNPARSABLE_REQUEST"));
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_unparsable_requests_total",
                        {{"method", "/dcdir.v1.ReportingService/ReportHealth"}}),
            2);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_unparsable_requests_total",
                        {{"method", "/dcdir.v1.AdminService/SetTenantPolicy"}}),
            1);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_unparsable_requests_total",
                        {{"method", "/dcdir.v1.AdminService/DeleteTenantPolicy"}}),
            0);

  s = RawUnaryCall(t, "/dcdir.v1.DirectoryService/GetDirectory", not_utf8, &reason);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_unparsable_requests_total",
                        {{"method", "/dcdir.v1.DirectoryService/GetDirectory"}}),
            std::nullopt);
  s = RawUnaryCall(t, "/dcdir.v1.DirectoryService/NoSuchMethod", "", &reason);
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::UNIMPLEMENTED, ""));
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_unparsable_requests_total",
                        {{"method", "/dcdir.v1.DirectoryService/NoSuchMethod"}}),
            std::nullopt);

  v1::Directory d;
  EXPECT_TRUE(t.Get("DE", &d).ok());
}

// The rule for an anonymous caller (docs/SECURITY.md, "What an anonymous caller learns"): it
// gets the directory for the client it says it is and may report a fallback; every RPC that
// reveals stored policy, rules or other DCs' verdicts, or changes state, needs credentials.
// One call per RPC, without a token.
TEST(AuthTest, EachRpcFollowsTheAnonymousCallerRule) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("acme");
  set.mutable_policy()->set_home_region("eu");
  v1::TenantPolicy stored;
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());

  v1::GetDirectoryRequest get;
  get.set_client_country("US");
  get.set_tenant_id("acme");
  std::map<std::string, std::pair<grpc::StatusCode, std::string>> got;  // rpc -> code, reason
  auto note = [&](const std::string& rpc, const grpc::Status& s, const grpc::ClientContext& c) {
    got[rpc] = {s.error_code(), ReasonOf(c)};
  };
  {
    grpc::ClientContext c;
    v1::Directory d;
    note("GetDirectory", t.directory().GetDirectory(&c, get, &d), c);
  }
  {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto reader = t.directory().WatchDirectory(&c, get);
    v1::Directory d;
    got["WatchDirectory"] = {reader->Read(&d) ? grpc::StatusCode::OK : grpc::StatusCode::UNKNOWN,
                             ""};
    c.TryCancel();
    reader->Finish();
  }
  {
    grpc::ClientContext c;
    v1::DirectoryExplanation e;
    note("ExplainDirectory", t.directory().ExplainDirectory(&c, get, &e), c);
    EXPECT_FALSE(e.has_tenant_policy());
  }
  {
    grpc::ClientContext c;
    v1::HealthReport r;
    r.set_datacenter_id("us-sjc");
    r.set_status(v1::HEALTH_STATUS_DOWN);
    v1::ReportHealthResponse out;
    note("ReportHealth", t.reporting().ReportHealth(&c, r, &out), c);
  }
  {
    grpc::ClientContext c;
    v1::FallbackReport r;
    r.set_client_country("US");
    r.set_datacenter_id("us-sjc");
    v1::ReportFallbackResponse out;
    note("ReportFallback", t.reporting().ReportFallback(&c, r, &out), c);
  }
  {
    grpc::ClientContext c;
    v1::TenantPolicy out;
    note("SetTenantPolicy", t.admin().SetTenantPolicy(&c, set, &out), c);
  }
  {
    grpc::ClientContext c;
    v1::GetTenantPolicyRequest r;
    r.set_tenant_id("acme");
    v1::TenantPolicy out;
    note("GetTenantPolicy", t.admin().GetTenantPolicy(&c, r, &out), c);
    EXPECT_EQ(out.home_region(), "");
  }
  {
    grpc::ClientContext c;
    v1::DeleteTenantPolicyRequest r;
    r.set_tenant_id("acme");
    v1::DeleteTenantPolicyResponse out;
    note("DeleteTenantPolicy", t.admin().DeleteTenantPolicy(&c, r, &out), c);
  }
  {
    grpc::ClientContext c;
    v1::ListDataCentersResponse out;
    note("ListDataCenters", t.admin().ListDataCenters(&c, v1::ListDataCentersRequest(), &out), c);
  }
  const std::pair<grpc::StatusCode, std::string> ok{grpc::StatusCode::OK, ""};
  const std::pair<grpc::StatusCode, std::string> refused{grpc::StatusCode::UNAUTHENTICATED,
                                                         "MISSING_CREDENTIALS"};
  EXPECT_EQ(got, (std::map<std::string, std::pair<grpc::StatusCode, std::string>>{
                     {"GetDirectory", ok},
                     {"WatchDirectory", ok},
                     {"ReportFallback", ok},
                     {"ExplainDirectory", refused},
                     {"ReportHealth", refused},
                     {"SetTenantPolicy", refused},
                     {"GetTenantPolicy", refused},
                     {"DeleteTenantPolicy", refused},
                     {"ListDataCenters", refused},
                 }));
  // Nothing changed: the policy is still stored and us-sjc still healthy.
  v1::GetTenantPolicyRequest r;
  r.set_tenant_id("acme");
  v1::TenantPolicy still;
  EXPECT_TRUE(t.admin().GetTenantPolicy(t.AuthContext().get(), r, &still).ok());
  EXPECT_EQ(still.home_region(), "eu");
}

TEST(AuthTest, ReportingAndAdminNeedTheToken) {
  TestServer t;
  v1::HealthReport report;
  report.set_datacenter_id("us-sjc");
  report.set_status(v1::HEALTH_STATUS_HEALTHY);
  v1::ReportHealthResponse response;
  {
    grpc::ClientContext context;  // no token
    EXPECT_THAT((RpcOutcome{t.reporting().ReportHealth(&context, report, &response),
                            ReasonOf(context)}),
                StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"));
  }
  {
    auto context = t.AuthContext("wrong-token");
    grpc::Status s = t.reporting().ReportHealth(context.get(), report, &response);
    EXPECT_THAT((RpcOutcome{s, ReasonOf(*context)}),
                StatusIs(grpc::StatusCode::UNAUTHENTICATED, "INVALID_CREDENTIALS"));
    EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr("wrong-token")));
    EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr(t.token())));
  }
  {
    grpc::ClientContext context;
    v1::ListDataCentersResponse list;
    EXPECT_EQ(t.admin().ListDataCenters(&context, {}, &list).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    v1::GetTenantPolicyRequest get;
    get.set_tenant_id("acme");
    v1::TenantPolicy policy;
    EXPECT_EQ(t.admin().GetTenantPolicy(&context, get, &policy).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total",
                        {{"result", "unauthenticated"}}),
            2.0);
  // The directory itself needs no token.
  v1::Directory d;
  EXPECT_EQ(t.Get("US", &d).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(AuthTest, NoTokenConfiguredMeansNoCheck) {
  TestServer t({.auth_token = ""});
  v1::HealthReport report;
  report.set_datacenter_id("us-sjc");
  report.set_status(v1::HEALTH_STATUS_HEALTHY);
  v1::ReportHealthResponse response;
  grpc::ClientContext context;
  EXPECT_TRUE(t.reporting().ReportHealth(&context, report, &response).ok());
}

TEST(ReportingServiceTest, ReportFallbackCountsByRegionAndBorder) {
  TestServer t;
  v1::FallbackReport report;
  report.set_client_country("US");
  report.set_datacenter_id("ca-yyz");
  report.set_attempts(5);
  report.set_fallback(true);
  v1::ReportFallbackResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(t.reporting().ReportFallback(&context, report, &response).ok());
  EXPECT_TRUE(response.cross_border());
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_client_fallbacks_total",
                        {{"client_region", "us"}, {"dc_region", "ca"}, {"cross_border", "true"}}),
            1.0);
  struct Case {
    std::string country, dc;
    uint32_t attempts;
    grpc::StatusCode code;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"USA", "ca-yyz", 1, grpc::INVALID_ARGUMENT, "INVALID_COUNTRY"},
           {"US", "nowhere", 1, grpc::NOT_FOUND, "UNKNOWN_DATACENTER"},
           {"US", "ca-yyz", 5000, grpc::INVALID_ARGUMENT, "INVALID_ATTEMPTS"}}) {
    report.set_client_country(c.country);
    report.set_datacenter_id(c.dc);
    report.set_attempts(c.attempts);
    grpc::ClientContext ctx;
    EXPECT_THAT((RpcOutcome{t.reporting().ReportFallback(&ctx, report, &response), ReasonOf(ctx)}),
                StatusIs(c.code, c.reason));
  }
}

TEST(ReportingServiceTest, ReportFallbackIsRateLimited) {
  TestServer t({.fallback_reports_per_second = 3});
  v1::FallbackReport report;
  report.set_client_country("US");
  report.set_datacenter_id("us-sjc");
  v1::ReportFallbackResponse response;
  int ok = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    grpc::Status s = t.reporting().ReportFallback(&context, report, &response);
    if (s.ok()) ++ok;
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++limited;
      EXPECT_EQ(ReasonOf(context), "RATE_LIMITED");
    }
  }
  EXPECT_EQ(ok, 3);  // the fake clock does not move: only the burst passes
  EXPECT_EQ(limited, 2);
  t.clock().Advance(absl::Seconds(1));
  grpc::ClientContext context;
  EXPECT_TRUE(t.reporting().ReportFallback(&context, report, &response).ok());
}

// One address flooding ReportFallback is held to its own share (per-peer limit, checked first)
// and does not use up the server-wide limit: another address is still served.
TEST(ReportingServiceTest, ReportFallbackIsRateLimitedPerPeerFirst) {
  TestServer t({.fallback_reports_per_second = 6, .fallback_reports_per_second_per_peer = 2});
  v1::FallbackReport report;
  report.set_client_country("US");
  report.set_datacenter_id("us-sjc");
  auto from = [&](const std::string& local, int calls, int* ok, std::string* message) {
    auto channel = client::ChannelFromAddress(absl::StrCat("127.0.0.1:", t.server().port()),
                                              local, absl::Seconds(5));
    ASSERT_TRUE(channel.ok()) << channel.status();
    auto stub = v1::ReportingService::NewStub(*channel);
    for (int i = 0; i < calls; ++i) {
      grpc::ClientContext context;
      v1::ReportFallbackResponse response;
      const grpc::Status s = stub->ReportFallback(&context, report, &response);
      if (s.ok()) {
        ++*ok;
      } else {
        EXPECT_THAT((RpcOutcome{s, ReasonOf(context)}),
                    StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED"));
        *message = s.error_message();
      }
    }
  };
  int flooder_ok = 0;
  std::string flooder_message;
  from("127.0.0.7", 50, &flooder_ok, &flooder_message);
  EXPECT_EQ(flooder_ok, 4);  // the per-peer burst (2 x 2/s); the fake clock does not move
  EXPECT_THAT(flooder_message, HasSubstr("from this address"));
  int other_ok = 0;
  std::string other_message;
  from("127.0.0.8", 3, &other_ok, &other_message);
  EXPECT_EQ(other_ok, 2);  // 6 server-wide - 4 used by the flooder; its 46 refusals took none
  EXPECT_THAT(other_message, HasSubstr("right now"));
}

TEST(AdminServiceTest, TenantPolicyLifecycle) {
  TestServer t;
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id("umbrella");
  set.mutable_policy()->set_home_region("eu");
  set.mutable_policy()->add_allowed_regions("eu");
  set.mutable_policy()->add_allowed_regions("us");
  set.mutable_policy()->add_allowed_regions("us");
  v1::TenantPolicy stored;
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());
  EXPECT_THAT(stored.allowed_regions(), ElementsAre("eu", "us"));  // deduplicated
  EXPECT_EQ(stored.update_time().seconds(), absl::ToUnixSeconds(t.clock().Now()));

  v1::GetTenantPolicyRequest get;
  get.set_tenant_id("umbrella");
  v1::TenantPolicy got;
  ASSERT_TRUE(t.admin().GetTenantPolicy(t.AuthContext().get(), get, &got).ok());
  EXPECT_EQ(got.home_region(), "eu");
  EXPECT_THAT(got.allowed_regions(), ElementsAre("eu", "us"));

  v1::DeleteTenantPolicyRequest del;
  del.set_tenant_id("umbrella");
  v1::DeleteTenantPolicyResponse deleted;
  ASSERT_TRUE(t.admin().DeleteTenantPolicy(t.AuthContext().get(), del, &deleted).ok());
  auto context = t.AuthContext();
  EXPECT_THAT((RpcOutcome{t.admin().GetTenantPolicy(context.get(), get, &got), ReasonOf(*context)}),
              StatusIs(grpc::StatusCode::NOT_FOUND, "TENANT_NOT_FOUND"));
  auto context2 = t.AuthContext();
  EXPECT_EQ(t.admin().DeleteTenantPolicy(context2.get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(AdminServiceTest, SetTenantPolicyRejectsBadInput) {
  TestServer t;
  struct Case {
    std::string tenant, home;
    std::vector<std::string> allowed;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{{"", "us", {}, "INVALID_TENANT_ID"},
                                         {"a b", "us", {}, "INVALID_TENANT_ID"},
                                         {"acme", "", {}, "UNKNOWN_REGION"},
                                         {"acme", "mars", {}, "UNKNOWN_REGION"},
                                         {"acme", "us", {"ca", "atlantis"}, "UNKNOWN_REGION"}}) {
    v1::SetTenantPolicyRequest set;
    set.mutable_policy()->set_tenant_id(c.tenant);
    set.mutable_policy()->set_home_region(c.home);
    for (const auto& r : c.allowed) set.mutable_policy()->add_allowed_regions(r);
    auto context = t.AuthContext();
    v1::TenantPolicy stored;
    grpc::Status s = t.admin().SetTenantPolicy(context.get(), set, &stored);
    EXPECT_THAT((RpcOutcome{s, ReasonOf(*context)}),
                StatusIs(grpc::StatusCode::INVALID_ARGUMENT, c.reason));
  }
  auto context = t.AuthContext();
  v1::TenantPolicy stored;
  EXPECT_THAT((RpcOutcome{t.admin().SetTenantPolicy(context.get(), {}, &stored),
                          ReasonOf(*context)}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "MISSING_POLICY"));
}

// A tenant id of exactly 64 bytes (api::kMaxTenantIdBytes; docs/CONTRACT.md, "Errors") is a
// tenant like any other; 65 bytes is refused by every RPC that takes one, and nothing is stored.
TEST(AdminServiceTest, TenantIdOfSixtyFourBytesIsKeptAndSixtyFiveRefused) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  const std::string longest(64, 'a');
  const std::string too_long(65, 'a');
  v1::SetTenantPolicyRequest set;
  set.mutable_policy()->set_tenant_id(longest);
  set.mutable_policy()->set_home_region("us");
  set.mutable_policy()->add_allowed_regions("ca");
  v1::TenantPolicy stored;
  ASSERT_TRUE(t.admin().SetTenantPolicy(t.AuthContext().get(), set, &stored).ok());
  EXPECT_EQ(stored.tenant_id(), longest);
  v1::GetTenantPolicyRequest get;
  get.set_tenant_id(longest);
  v1::TenantPolicy got;
  ASSERT_TRUE(t.admin().GetTenantPolicy(t.AuthContext().get(), get, &got).ok());
  EXPECT_EQ(got.tenant_id(), longest);
  // GetDirectory applies its policy: only us and ca (mx-qro and eu-ams are gone).
  v1::Directory d;
  ASSERT_TRUE(t.Get("US", &d, nullptr, longest).ok());
  EXPECT_THAT(Ids(d.secondaries()), ElementsAre("ca-yyz", "ca-yvr"));

  set.mutable_policy()->set_tenant_id(too_long);
  auto set_context = t.AuthContext();
  EXPECT_THAT((RpcOutcome{t.admin().SetTenantPolicy(set_context.get(), set, &stored),
                          ReasonOf(*set_context)}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_TENANT_ID"));
  get.set_tenant_id(too_long);
  auto get_context = t.AuthContext();
  EXPECT_THAT((RpcOutcome{t.admin().GetTenantPolicy(get_context.get(), get, &got),
                          ReasonOf(*get_context)}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_TENANT_ID"));
  v1::DeleteTenantPolicyRequest del;
  del.set_tenant_id(too_long);
  v1::DeleteTenantPolicyResponse deleted;
  auto del_context = t.AuthContext();
  EXPECT_THAT((RpcOutcome{t.admin().DeleteTenantPolicy(del_context.get(), del, &deleted),
                          ReasonOf(*del_context)}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_TENANT_ID"));
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("US", &d, &reason, too_long), reason}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_TENANT_ID"));
  // Only the 64-byte tenant is stored.
  v1::ListTenantPoliciesResponse list;
  ASSERT_TRUE(t.admin().ListTenantPolicies(t.AuthContext().get(), {}, &list).ok());
  ASSERT_EQ(list.tenant_policies_size(), 1);
  EXPECT_EQ(list.tenant_policies(0).tenant_id(), longest);
}

TEST(AdminServiceTest, ListDataCentersShowsHealth) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_DOWN, {"jp-osa"});
  v1::ListDataCentersResponse list;
  ASSERT_TRUE(t.admin().ListDataCenters(t.AuthContext().get(), {}, &list).ok());
  ASSERT_EQ(list.datacenters_size(), 21);
  EXPECT_EQ(list.datacenters(0).datacenter().id(), "us-sjc");
  EXPECT_EQ(list.datacenters(0).datacenter().status(), v1::HEALTH_STATUS_UNKNOWN);
  EXPECT_EQ(list.datacenters(0).capacity_sessions(), 400000u);
  EXPECT_FALSE(list.datacenters(0).has_report_time());
  for (const auto& s : list.datacenters()) {
    if (s.datacenter().id() == "jp-osa") {
      EXPECT_EQ(s.datacenter().status(), v1::HEALTH_STATUS_DOWN);
      EXPECT_EQ(s.expire_time().seconds(), absl::ToUnixSeconds(t.clock().Now()) + 30);
    }
  }
  EXPECT_FALSE(list.stale());
  EXPECT_FALSE(list.config_version().empty());
}

// grpc.health.v1 for the overall server ("").
grpc::health::v1::HealthCheckResponse::ServingStatus HealthOf(TestServer& t) {
  auto stub = grpc::health::v1::Health::NewStub(t.channel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&context, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response.status();
}

TEST(ServerTest, NotServingUntilTheFirstSnapshotThenServing) {
  testing::FlakyStore store;
  store.set_available(false);
  TestServer t({.store = &store});
  EXPECT_EQ(HealthOf(t), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  v1::Directory d;
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("US", &d, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NOT_READY"));
  store.set_available(true);
  t.server().state().Refresh();
  EXPECT_EQ(HealthOf(t), grpc::health::v1::HealthCheckResponse::SERVING);
}

// A report before the first snapshot is refused NOT_READY and counted as not_ready: the store
// may well be reachable (the server is still starting), so it is not store_unavailable.
TEST(ServerTest, AReportBeforeTheFirstSnapshotIsCountedAsNotReady) {
  testing::FlakyStore store;
  store.set_available(false);
  TestServer t({.store = &store});
  v1::HealthReport report;
  report.set_datacenter_id("eu-fra");
  report.set_status(v1::HEALTH_STATUS_HEALTHY);
  report.set_congestion(0.1);
  auto context = t.AuthContext();
  v1::ReportHealthResponse response;
  const grpc::Status s = t.reporting().ReportHealth(context.get(), report, &response);
  EXPECT_THAT((RpcOutcome{s, ReasonOf(*context)}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NOT_READY"));
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total", {{"result", "not_ready"}}),
            1.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_health_reports_total",
                        {{"result", "store_unavailable"}}),
            0.0);
}

TEST(ServerTest, ReflectionListsTheServices) {
  TestServer t;
  namespace refl = grpc::reflection::v1alpha;
  auto stub = refl::ServerReflection::NewStub(t.channel());
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  refl::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  refl::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"dcdir.v1.DirectoryService",
                                              "dcdir.v1.ReportingService",
                                              "dcdir.v1.AdminService", "grpc.health.v1.Health"}));
  // A client can fetch the schema it needs (what `buf curl` does).
  request.set_file_containing_symbol("dcdir.v1.DirectoryService");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(ServerTest, StoreLossServesStaleAnswersAndRefusesWrites) {
  testing::FlakyStore store;
  TestServer t({.store = &store});
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  store.set_available(false);
  t.server().state().Refresh();
  // Long past every TTL: nobody can renew while the store is away, so health is frozen.
  t.clock().Advance(absl::Minutes(5));
  t.server().state().Refresh();
  v1::Directory d;
  ASSERT_TRUE(t.Get("US", &d).ok());
  EXPECT_TRUE(d.stale());
  EXPECT_EQ(d.primaries_size(), 4);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_store_up"), 0.0);
  v1::HealthReport report;
  report.set_datacenter_id("us-sjc");
  report.set_status(v1::HEALTH_STATUS_DOWN);
  v1::ReportHealthResponse response;
  auto context = t.AuthContext();
  EXPECT_THAT((RpcOutcome{t.reporting().ReportHealth(context.get(), report, &response),
                          ReasonOf(*context)}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "STORE_UNAVAILABLE"));
  // Back: fresh answers, and the reports that expired meanwhile are judged by real expiry.
  store.set_available(true);
  t.server().state().Refresh();
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_store_up"), 1.0);
  std::string reason;
  EXPECT_THAT((RpcOutcome{t.Get("US", &d, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAVAILABLE, "NO_HEALTHY_COMPLIANT_DATACENTER"));
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  ASSERT_TRUE(t.Get("US", &d).ok());
  EXPECT_FALSE(d.stale());
}

TEST(ServerTest, ShutdownGoesNotServingAndEndsWatches) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  grpc::ClientContext context;
  auto reader = t.directory().WatchDirectory(&context, request);
  v1::Directory d;
  ASSERT_TRUE(reader->Read(&d));
  t.server().Shutdown(absl::Seconds(5));
  EXPECT_FALSE(reader->Read(&d));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ServerTest, OversizedRequestIsRejected) {
  TestServer t;
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id(std::string(100 * 1024, 'x'));
  grpc::ClientContext context;
  v1::Directory d;
  EXPECT_EQ(t.directory().GetDirectory(&context, request, &d).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(t.Get("US", &d).error_code() == grpc::StatusCode::UNAVAILABLE);  // still serving
}

}  // namespace
}  // namespace dcdir
