// Health edges on the real binary (issue "close the holes at the edges", items 2 to 4):
// self-preservation never keeps a dead DC of a small world and shows every DC it keeps; TTLs
// neither stretch nor shrink when the wall clock steps (libfaketime, embedded store and Redis);
// a threshold change by reload applies at once; tenant policies orphaned by a reload are told.

#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "tests/edges/edge_worlds.h"
#include "tests/testing/redis_fixture.h"
#include "tests/testing/sanitizer.h"
#include "tests/testing/spawned_server.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<v1::DataCenter>& dcs) {
  std::vector<std::string> ids;
  for (const v1::DataCenter& dc : dcs) ids.push_back(dc.id());
  return ids;
}

// us-east (the only primary of us) and ca-tor (primary of ca, secondary of us).
std::string TwoDcWorld(const std::string& thresholds) {
  return absl::StrCat(thresholds, R"(regions:
  - id: us
    name: United States
    reference: {lat: 39.83, lon: -98.58}
    primaries: [us-east]
    secondaries: [ca-tor]
  - id: ca
    name: Canada
    reference: {lat: 45.42, lon: -75.70}
    primaries: [ca-tor]
    secondaries: [us-east]
datacenters:
  - {id: us-east, region: us, country: US, city: Ashburn, lat: 39.04, lon: -77.49,
     endpoints: ["gw.us-east.example:443"], capacity_sessions: 1000}
  - {id: ca-tor, region: ca, country: CA, city: Toronto, lat: 43.65, lon: -79.38,
     endpoints: ["gw.ca-tor.example:443"], capacity_sessions: 1000}
countries:
  US: us
  CA: ca
)");
}

std::unique_ptr<SpawnedServer> StartWith(const std::string& world,
                                         std::vector<std::string> flags = {},
                                         std::vector<std::string> env = {},
                                         std::string* path_out = nullptr) {
  const std::string path = MakeTempDir("dcdir-health") + "/world.yaml";
  WriteFileAtomically(path, world);
  if (path_out != nullptr) *path_out = path;
  auto server = SpawnedServer::Start(
      {.config_path = path, .flags = std::move(flags), .env = std::move(env)});
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

const v1::DataCenterVerdict* VerdictOf(const v1::DirectoryExplanation& e, const std::string& dc) {
  for (const v1::DataCenterVerdict& v : e.datacenters()) {
    if (v.datacenter().id() == dc) return &v;
  }
  return nullptr;
}

// The issue's input: 2 DCs with 3 s TTLs, then only ca-tor keeps reporting, once a second.
// After 8 s and after 18 s us-east is UNKNOWN, ca-tor the secondary, fallback active: a world
// below the minimum of reporting DCs never engages self-preservation.
TEST(SelfPreservationEdgeTest, ASmallWorldNeverKeepsADeadDc) {
  auto server = StartWith(TwoDcWorld("thresholds:\n  default_health_ttl: 3s\n"));
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Report("us-east", v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Seconds(3)).ok());
  ASSERT_TRUE(server->Report("ca-tor", v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Seconds(3)).ok());
  const absl::Time start = absl::Now();
  for (absl::Duration at : {absl::Seconds(8), absl::Seconds(18)}) {
    while (absl::Now() - start < at) {
      ASSERT_TRUE(server->Report("ca-tor", v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Seconds(3)).ok());
      absl::SleepFor(absl::Seconds(1));
    }
    v1::Directory us;
    ASSERT_TRUE(server->Get("US", &us).ok());
    EXPECT_THAT(Ids(us.primaries()), IsEmpty()) << "at " << at;
    EXPECT_THAT(Ids(us.secondaries()), ElementsAre("ca-tor")) << "at " << at;
    EXPECT_TRUE(us.fallback_active()) << "at " << at;
    v1::DirectoryExplanation explanation;
    ASSERT_TRUE(server->Explain("US", &explanation).ok());
    const v1::DataCenterVerdict* east = VerdictOf(explanation, "us-east");
    ASSERT_NE(east, nullptr);
    EXPECT_EQ(east->reason(), v1::VERDICT_REASON_EXPIRED) << "at " << at;
    EXPECT_EQ(east->datacenter().status(), v1::HEALTH_STATUS_UNKNOWN);
    EXPECT_FALSE(east->datacenter().health_kept());
    EXPECT_EQ(server->Metric("dcdir_datacenter_up", {{"datacenter", "us-east"}}), 0.0);
    EXPECT_EQ(server->Metric("dcdir_self_preservation_active"), 0.0);
    EXPECT_EQ(server->Metric("dcdir_self_preservation_kept_datacenters"), 0.0);
  }
  EXPECT_THAT(server->log(), Not(HasSubstr("self-preservation ON")));
}

// 12 DCs in 3 regions whose reporters all stop at once: self-preservation keeps them, shows
// each kept DC (answer, Explain with the real expiry, gauge, log), and lets them expire for
// real at its configured maximum.
TEST(SelfPreservationEdgeTest, KeptDcsAreVisibleAndExpireAtTheMaximum) {
  std::string world = R"(self_preservation:
  max_duration: 4s
regions:
)";
  std::string dcs = "datacenters:\n";
  std::string countries = "countries:\n";
  const char* regions[] = {"aa", "bb", "cc"};
  for (int r = 0; r < 3; ++r) {
    absl::StrAppendFormat(&world,
                          "  - id: %s\n    name: Region %s\n    reference: {lat: %d, lon: %d}\n"
                          "    primaries: [%s-1, %s-2, %s-3, %s-4]\n    secondaries: []\n",
                          regions[r], regions[r], 10 * r, 20 * r, regions[r], regions[r],
                          regions[r], regions[r]);
    for (int d = 1; d <= 4; ++d) {
      absl::StrAppendFormat(&dcs,
                            "  - {id: %s-%d, region: %s, country: %c%c, city: C, lat: %d, lon: "
                            "%d, endpoints: [\"gw.%s-%d.example:443\"], capacity_sessions: 100}\n",
                            regions[r], d, regions[r], 'A' + r, 'A' + r, 10 * r, 20 * r + d,
                            regions[r], d);
    }
    absl::StrAppendFormat(&countries, "  %c%c: %s\n", 'A' + r, 'A' + r, regions[r]);
  }
  auto server = StartWith(world + dcs + countries);
  ASSERT_NE(server, nullptr);
  for (const char* r : regions) {
    for (int d = 1; d <= 4; ++d) {
      ASSERT_TRUE(server->Report(absl::StrCat(r, "-", d), v1::HEALTH_STATUS_HEALTHY, 0.1,
                                 absl::Seconds(2))
                      .ok());
    }
  }
  // The reporters all stop: at 2 s every record expires within one window.
  ASSERT_TRUE(PollUntil([&] { return server->Metric("dcdir_self_preservation_active") == 1.0; },
                        absl::Seconds(10), absl::Milliseconds(50)))
      << server->log();
  EXPECT_EQ(server->Metric("dcdir_self_preservation_kept_datacenters"), 12.0);
  EXPECT_THAT(LogMessages(server->log()),
              Contains("self-preservation ON: 12 of 12 reported DCs in 3 of 3 regions expired "
                       "within 5s (reporters, not DCs, are likely broken); keeping their last "
                       "known health for at most 4s until reports come back"));
  v1::Directory aa;
  ASSERT_TRUE(server->Get("AA", &aa).ok());
  ASSERT_EQ(aa.primaries_size(), 4);
  for (const v1::DataCenter& dc : aa.primaries()) {
    EXPECT_TRUE(dc.health_kept()) << dc.id();
    EXPECT_EQ(dc.status(), v1::HEALTH_STATUS_HEALTHY);
  }
  v1::DirectoryExplanation explanation;
  ASSERT_TRUE(server->Explain("AA", &explanation).ok());
  const v1::DataCenterVerdict* kept = VerdictOf(explanation, "aa-1");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->verdict(), v1::VERDICT_PRIMARY);
  EXPECT_EQ(kept->reason(), v1::VERDICT_REASON_HEALTH_KEPT);
  EXPECT_THAT(kept->detail(), HasSubstr("health kept by self-preservation: last reported "
                                        "HEALTH_STATUS_HEALTHY, report expired at "));
  ASSERT_TRUE(kept->has_expire_time());
  EXPECT_LT(kept->expire_time().seconds(), absl::ToUnixSeconds(absl::Now()) + 1);
  // At the maximum the kept records expire for real.
  ASSERT_TRUE(PollUntil([&] { return server->Metric("dcdir_self_preservation_active") == 0.0; },
                        absl::Seconds(10), absl::Milliseconds(50)))
      << server->log();
  EXPECT_EQ(server->Metric("dcdir_self_preservation_kept_datacenters"), 0.0);
  EXPECT_THAT(LogMessages(server->log()),
              Contains("self-preservation ended after its maximum of 4s: 12 kept DCs' health "
                       "now expires for real (UNKNOWN)"));
  v1::Directory after;
  const grpc::Status s = server->Get("AA", &after);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  // ... and it does not start again from the same records.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(server->Metric("dcdir_self_preservation_active"), 0.0);
}

// A DC reported HEALTHY with a 4 s TTL, then the server's wall clock steps (libfaketime) back
// and forward by an hour: it is HEALTHY until its TTL and UNKNOWN after, in both directions.
void CheckClockSteps(const std::vector<std::string>& extra_flags) {
  // libfaketime's clock_gettime recurses while the sanitizer runtime starts, and the server never
  // comes up; the plain build (scripts/test.sh, first stage) runs this test.
  if (kSanitizerBuild) {
    GTEST_SKIP() << "libfaketime cannot be preloaded into a sanitizer build";
  }
  const std::string stamp = MakeTempDir("dcdir-faketime") + "/offset";
  std::ofstream(stamp) << "+0\n";
  const std::vector<std::string> env = FaketimeEnv(stamp);
  if (env.empty()) GTEST_SKIP() << "libfaketime is not installed (scripts/install-deps.sh test)";
  auto server = StartWith(TwoDcWorld(""), extra_flags, env);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Report("ca-tor", v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Minutes(5)).ok());
  auto east_status = [&] {
    v1::ListDataCentersResponse list;
    EXPECT_TRUE(server->List(&list).ok());
    for (const v1::DataCenterState& s : list.datacenters()) {
      if (s.datacenter().id() == "us-east") return s.datacenter().status();
    }
    return v1::HEALTH_STATUS_UNSPECIFIED;
  };
  for (const char* step : {"-3600", "+3600"}) {
    SCOPED_TRACE(absl::StrCat("wall clock step ", step, " s"));
    std::ofstream(stamp) << "+0\n";
    absl::SleepFor(absl::Milliseconds(200));
    v1::ReportHealthResponse response;
    ASSERT_TRUE(server->Report("us-east", v1::HEALTH_STATUS_HEALTHY, 0.1, absl::Seconds(4),
                               &response)
                    .ok());
    const absl::Time reported = absl::Now();
    std::ofstream(stamp) << step << "\n";
    absl::SleepFor(absl::Milliseconds(500));
    const int64_t offset = std::stoll(step);
    // The expiry shown is the stepped wall clock's now plus what is left of the TTL.
    v1::ListDataCentersResponse list;
    ASSERT_TRUE(server->List(&list).ok());
    for (const v1::DataCenterState& s : list.datacenters()) {
      if (s.datacenter().id() != "us-east") continue;
      const int64_t shown = s.expire_time().seconds();
      const int64_t stepped_now = absl::ToUnixSeconds(absl::Now()) + offset;
      EXPECT_GE(shown, stepped_now - 1);
      EXPECT_LE(shown, stepped_now + 4);
    }
    // Not cut: still HEALTHY well inside the TTL (3 s after the report).
    while (absl::Now() - reported < absl::Seconds(3)) {
      EXPECT_EQ(east_status(), v1::HEALTH_STATUS_HEALTHY);
      absl::SleepFor(absl::Milliseconds(250));
    }
    // Not stretched: UNKNOWN soon after the TTL (4 s; a 100 ms maintenance tick, margin).
    const std::optional<absl::Duration> gone = PollUntil(
        [&] { return east_status() == v1::HEALTH_STATUS_UNKNOWN; }, absl::Seconds(5),
        absl::Milliseconds(50));
    ASSERT_TRUE(gone.has_value()) << server->log();
    EXPECT_LE(absl::Now() - reported, absl::Seconds(6));
    v1::Directory us;
    ASSERT_TRUE(server->Get("US", &us).ok());
    EXPECT_THAT(Ids(us.primaries()), IsEmpty());
    EXPECT_THAT(Ids(us.secondaries()), ElementsAre("ca-tor"));
  }
}

TEST(ClockStepEdgeTest, TtlsIgnoreWallClockStepsWithTheEmbeddedStore) { CheckClockSteps({}); }

TEST(ClockStepEdgeTest, TtlsIgnoreWallClockStepsWithRedis) {
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  CheckClockSteps({"--redis=" + (*redis)->url()});
}

// Congestion thresholds changed by a reload re-judge every DC at once from its stored
// congestion, keeping each DC's hysteresis direction.
TEST(ThresholdReloadEdgeTest, NewThresholdsApplyAtOnce) {
  const std::string world = absl::StrReplaceAll(ThreeRegionWorld(), {{
      "  - {id: us-east,",
      "  - {id: us-west, region: us, country: US, city: San Jose, lat: 37.34, lon: -121.89,\n"
      "     endpoints: [\"gw.us-west.example:443\"], capacity_sessions: 1000}\n"
      "  - {id: us-cent, region: us, country: US, city: Denver, lat: 39.74, lon: -104.99,\n"
      "     endpoints: [\"gw.us-cent.example:443\"], capacity_sessions: 1000}\n"
      "  - {id: us-east,"}, {"primaries: [us-east]", "primaries: [us-east, us-west, us-cent]"}});
  std::string path;
  auto server = StartWith(world, {"--config_poll_interval=100ms"}, {}, &path);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Report("us-east", v1::HEALTH_STATUS_HEALTHY, 0.92).ok());  // congested
  ASSERT_TRUE(server->Report("us-west", v1::HEALTH_STATUS_HEALTHY, 0.88).ok());  // congested
  ASSERT_TRUE(server->Report("us-cent", v1::HEALTH_STATUS_HEALTHY, 0.80).ok());  // not
  auto congested = [&] {
    std::vector<std::string> ids;
    v1::ListDataCentersResponse list;
    EXPECT_TRUE(server->List(&list).ok());
    for (const v1::DataCenterState& s : list.datacenters()) {
      if (s.datacenter().congested()) ids.push_back(s.datacenter().id());
    }
    return ids;
  };
  ASSERT_THAT(congested(), ElementsAre("us-west", "us-east"));
  auto reload = [&](const std::string& enter, const std::string& exit) {
    const std::string next = absl::StrCat("thresholds:\n  congestion_enter: ", enter,
                                          "\n  congestion_exit: ", exit, "\n",
                                          absl::StrReplaceAll(world, {{"thresholds:\n", ""}}));
    WriteFileAtomically(path, next);
    ASSERT_TRUE(PollUntil(
        [&] {
          v1::Directory us;
          return server->Get("US", &us).ok() &&
                 us.config_version() == config::ContentVersion(next);
        },
        absl::Seconds(10)))
        << server->log();
  };
  // 0.85/0.70 -> 0.95/0.90: us-east (0.92, was congested) stays, us-west (0.88) leaves at once,
  // us-cent (0.80, was not) does not enter.
  reload("0.95", "0.90");
  EXPECT_THAT(congested(), ElementsAre("us-east"));
  // -> 0.75/0.60: us-cent (0.80) enters at once; us-west (0.88) is above both.
  reload("0.75", "0.60");
  EXPECT_THAT(congested(), ElementsAre("us-west", "us-cent", "us-east"));
  // A new report keeps the direction the snapshot showed: us-cent at 0.70 stays congested.
  ASSERT_TRUE(server->Report("us-cent", v1::HEALTH_STATUS_HEALTHY, 0.70).ok());
  EXPECT_THAT(congested(), ElementsAre("us-west", "us-cent", "us-east"));
}

// A reload that removes a region some stored tenant policies name: each is logged, counted,
// fails closed (unknown home) or loses the region (unknown allowed region), and
// `dcdirctl tenant get` says so.
TEST(OrphanedTenantEdgeTest, PoliciesNamingARemovedRegionAreTold) {
  std::string path;
  auto server = StartWith(ThreeRegionWorld(), {"--config_poll_interval=100ms"}, {}, &path);
  ASSERT_NE(server, nullptr);
  for (const auto& [tenant, home, allowed] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"acme", "ca", ""}, {"beta", "us", "ca"}}) {
    v1::SetTenantPolicyRequest request;
    request.mutable_policy()->set_tenant_id(tenant);
    request.mutable_policy()->set_home_region(home);
    if (!allowed.empty()) request.mutable_policy()->add_allowed_regions(allowed);
    v1::TenantPolicy response;
    ASSERT_TRUE(server->admin().SetTenantPolicy(server->Context(true).get(), request, &response).ok());
  }
  ASSERT_TRUE(server->Report("us-east", v1::HEALTH_STATUS_HEALTHY, 0.1).ok());
  EXPECT_EQ(server->Metric("dcdir_orphaned_tenant_policies"), 0.0);
  // The new config has no region ca (nor its DC and country).
  std::string next = absl::StrReplaceAll(ThreeRegionWorld(), {
      {"    secondaries: [ca-tor]\n", "    secondaries: []\n"},
      {"  - id: ca\n    name: Canada\n    reference: {lat: 45.42, lon: -75.70}\n"
       "    primaries: [ca-tor]\n    secondaries: [us-east]\n", ""},
      {"  - {id: ca-tor, region: ca, country: CA, city: Toronto, lat: 43.65, lon: -79.38,\n"
       "     endpoints: [\"gw.ca-tor.example:443\"], capacity_sessions: 1000}\n", ""},
      {"  CA: ca\n", ""}});
  WriteFileAtomically(path, next);
  ASSERT_TRUE(PollUntil([&] { return server->Metric("dcdir_orphaned_tenant_policies") == 2.0; },
                        absl::Seconds(10)))
      << server->log();
  const std::vector<std::string> log = LogMessages(server->log());
  EXPECT_THAT(log, Contains("tenant policy \"acme\": home region \"ca\" is not defined by the "
                            "config: its clients are refused every DC (fail closed) until the "
                            "policy is changed or the region returns"));
  EXPECT_THAT(log, Contains("tenant policy \"beta\": allowed region(s) ca not defined by the "
                            "config: ignored"));
  v1::GetTenantPolicyRequest get;
  get.set_tenant_id("acme");
  v1::TenantPolicy acme;
  ASSERT_TRUE(server->admin().GetTenantPolicy(server->Context(true).get(), get, &acme).ok());
  EXPECT_THAT(acme.unknown_regions(), ElementsAre("ca"));
  v1::Directory d;
  const grpc::Status refused = server->Get("US", &d, "k", "acme");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(server->Get("US", &d, "k", "beta").ok());
#ifdef DCDIRCTL_BIN
  // dcdirctl says it in words.
  const std::string token_file = MakeTempDir("dcdir-token") + "/token";
  std::ofstream(token_file) << "spawned-token\n";
  Subprocess ctl({DCDIRCTL_BIN, "--server", absl::StrCat("127.0.0.1:", server->port()),
                  "--token_file", token_file, "tenant", "get", "--tenant", "acme"});
  ASSERT_EQ(ctl.Wait(), 0) << ctl.err();
  EXPECT_THAT(ctl.out(), HasSubstr("warning: home region ca no longer exists in the served "
                                   "config: this tenant's clients are refused every DC (fail "
                                   "closed) until the policy is changed\n"));
#endif
}

}  // namespace
}  // namespace dcdir::testing
