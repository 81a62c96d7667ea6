#include "service/audit/audit_log.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/audit/audit_writer.h"
#include "service/core/answer.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"
#include "tests/testing/example_world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/notification.h"

namespace dcdir::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15T08:00:00Z

std::shared_ptr<const core::Topology> Topology() {
  core::World world = testing::ExampleWorld();
  world.version = "cfg-1";
  auto topology = core::Topology::Compile(std::move(world));
  EXPECT_TRUE(topology.ok()) << topology.status();
  return *topology;
}

// Every DC HEALTHY (congestion 0.1) except `down` (DOWN) and `congested` (congestion 0.9).
std::shared_ptr<const core::Snapshot> Snapshot(std::shared_ptr<const core::Topology> topology,
                                               const std::vector<std::string>& down,
                                               const std::vector<std::string>& congested = {},
                                               uint64_t version = 7,
                                               std::vector<core::TenantPolicy> tenants = {}) {
  core::HealthMap health;
  for (const core::DataCenter& dc : topology->world().datacenters) {
    core::HealthRecord r;
    const bool is_down = std::find(down.begin(), down.end(), dc.id) != down.end();
    const bool is_congested =
        std::find(congested.begin(), congested.end(), dc.id) != congested.end();
    r.status = is_down ? core::HealthStatus::kDown : core::HealthStatus::kHealthy;
    r.congestion = is_congested ? 0.9 : 0.1;
    r.congested = is_congested;
    r.reported_at = kStart;
    r.expires_at = kStart + absl::Hours(1);
    health[dc.id] = r;
  }
  auto compiled = core::CompileTenants(*topology, tenants);
  return core::BuildSnapshot(topology, health, compiled, version, kStart, false);
}

const std::vector<std::string> kUsDcs = {"us-sjc", "us-den", "us-nyc", "us-iad"};

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest() : clock_(kStart), topology_(Topology()) {}

  // Records the answer `snapshot` gives to (country, tenant).
  core::Answer Record(AuditLog& log, const core::Snapshot& snapshot, std::string_view country,
                      std::string_view tenant = "", std::string_view client_id = "k") {
    core::AnswerRequest request;
    request.country = country;
    request.tenant_id = tenant;
    request.client_id = client_id;
    core::Answer answer = core::ComputeAnswer(snapshot, request);
    log.RecordAnswer(snapshot, answer, country, tenant);
    return answer;
  }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines = absl::StrSplit(writer_.contents(), '\n', absl::SkipEmpty());
    return lines;
  }

  StringAuditWriter writer_;
  testing::FakeClock clock_;
  std::shared_ptr<const core::Topology> topology_;
};

constexpr char kUsSecondaries[] =
    R"("secondaries":[{"id":"ca-yyz","region":"ca","country":"CA","cross_border":true},)"
    R"({"id":"ca-yvr","region":"ca","country":"CA","cross_border":true}],)"
    R"("cross_border_dcs":["ca-yyz","ca-yvr"])";

TEST_F(AuditLogTest, OneDecisionIsOneExactJsonLineAtWindowEnd) {
  AuditLog log(&clock_, &writer_);
  auto snapshot = Snapshot(topology_, kUsDcs);
  clock_.Advance(absl::Milliseconds(1500));
  const core::Answer answer = Record(log, *snapshot, "US");
  ASSERT_TRUE(answer.fallback_active);
  ASSERT_EQ(answer.cross_border_fallback_dcs.size(), 2u);

  clock_.Advance(absl::Seconds(8));  // 9.5 s into the window
  EXPECT_EQ(log.Poll(), 0u);
  EXPECT_EQ(writer_.contents(), "");
  clock_.Advance(absl::Milliseconds(500));  // exactly at window end
  EXPECT_EQ(log.Poll(), 1u);
  EXPECT_THAT(Lines(), ElementsAre(absl::StrCat(
      R"({"time":"2027-01-15T08:00:10.000Z","event":"cross_border_fallback","count":1,)",
      R"("window_start":"2027-01-15T08:00:00.000Z","first_seen":"2027-01-15T08:00:01.500Z",)",
      R"("last_seen":"2027-01-15T08:00:01.500Z","client_region":"us","client_country":"US",)",
      R"("tenant":null,"tenant_policy":false,"reason":"no_usable_primary",)",
      R"("congested_primaries":[],)", kUsSecondaries,
      R"(,"config_version":"cfg-1","snapshot_version":7,"first_snapshot_version":7})")));
}

TEST_F(AuditLogTest, IdenticalDecisionsAreAggregatedWithACount) {
  AuditLog log(&clock_, &writer_);
  auto v7 = Snapshot(topology_, kUsDcs, {}, 7);
  auto v9 = Snapshot(topology_, kUsDcs, {}, 9);
  // 1000 US clients with different client ids, across two snapshot versions: one line.
  for (int i = 0; i < 1000; ++i) {
    clock_.Advance(absl::Milliseconds(5));
    Record(log, i < 500 ? *v7 : *v9, "US", "", absl::StrCat("client-", i));
  }
  Record(log, *v9, "PR");  // another country: its own line
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(log.Poll(), 2u);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u) << writer_.contents();
  EXPECT_THAT(lines[0], HasSubstr(R"("count":1000,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("first_seen":"2027-01-15T08:00:00.005Z",)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("last_seen":"2027-01-15T08:00:05.000Z",)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("client_country":"US",)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("snapshot_version":9,"first_snapshot_version":7})"));
  EXPECT_THAT(lines[1], HasSubstr(R"("count":1,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("client_region":"us","client_country":"PR",)"));
}

TEST_F(AuditLogTest, AnswersWithoutCrossBorderFallbackAreNotLogged) {
  AuditLog log(&clock_, &writer_);
  auto healthy = Snapshot(topology_, {});
  const core::Answer answer = Record(log, *healthy, "US");
  EXPECT_FALSE(answer.fallback_active);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(log.Poll(), 0u);
  EXPECT_EQ(writer_.contents(), "");
}

TEST_F(AuditLogTest, CongestedPrimariesGiveTheirReason) {
  AuditLog log(&clock_, &writer_);
  auto snapshot = Snapshot(topology_, {}, kUsDcs);
  const core::Answer answer = Record(log, *snapshot, "US");
  ASSERT_TRUE(answer.fallback_active);
  ASSERT_EQ(answer.primaries.size(), 4u);
  clock_.Advance(absl::Seconds(10));
  ASSERT_EQ(log.Poll(), 1u);
  EXPECT_THAT(writer_.contents(),
              HasSubstr(absl::StrCat(
                  R"("reason":"all_usable_primaries_congested","congested_primaries":[)",
                  R"({"id":"us-sjc","region":"us","country":"US"},)",
                  R"({"id":"us-den","region":"us","country":"US"},)",
                  R"({"id":"us-nyc","region":"us","country":"US"},)",
                  R"({"id":"us-iad","region":"us","country":"US"}],)", kUsSecondaries)));
}

TEST_F(AuditLogTest, TenantIsRecordedWithWhetherAPolicyApplied) {
  AuditLog log(&clock_, &writer_);
  core::TenantPolicy acme{"acme", "us", {"us", "ca"}};
  auto snapshot = Snapshot(topology_, kUsDcs, {}, 7, {acme});
  Record(log, *snapshot, "US", "acme");
  Record(log, *snapshot, "US", "nobody");
  clock_.Advance(absl::Seconds(10));
  ASSERT_EQ(log.Poll(), 2u);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  // Same first_seen: ordered by line text.
  EXPECT_THAT(lines[0], HasSubstr(R"("tenant":"acme","tenant_policy":true,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("tenant":"nobody","tenant_policy":false,)"));
}

TEST_F(AuditLogTest, WindowsFollowEachOther) {
  AuditLog log(&clock_, &writer_);
  auto snapshot = Snapshot(topology_, kUsDcs);
  Record(log, *snapshot, "US");
  Record(log, *snapshot, "US");
  clock_.Advance(absl::Seconds(12));  // the flusher was late by 2 s
  EXPECT_EQ(log.Poll(), 1u);
  Record(log, *snapshot, "US");
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(log.Poll(), 0u);  // the second window started at 12 s
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(log.Poll(), 1u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(log.Poll(), 0u);  // nothing happened: no line
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"({"time":"2027-01-15T08:00:12.000Z","event":"cross_border_fallback","count":2,"window_start":"2027-01-15T08:00:00.000Z",)"));
  EXPECT_THAT(lines[1], HasSubstr(R"({"time":"2027-01-15T08:00:22.000Z","event":"cross_border_fallback","count":1,"window_start":"2027-01-15T08:00:12.000Z",)"));
}

TEST_F(AuditLogTest, DistinctDecisionsPerWindowAreCappedAndDropsCounted) {
  AuditLogOptions options;
  options.max_entries = 3;
  AuditLog log(&clock_, &writer_, options);
  auto snapshot = Snapshot(topology_, kUsDcs);
  // Tenant ids are free request text: 5 distinct ones, 2 records each.
  for (int round = 0; round < 2; ++round) {
    for (int t = 0; t < 5; ++t) Record(log, *snapshot, "US", absl::StrCat("tenant-", t));
  }
  EXPECT_EQ(log.dropped(), 4u);  // tenant-3 and tenant-4, twice each
  EXPECT_EQ(testing::MetricValue(*log.registry(), "dcdir_audit_dropped_total"), 4.0);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(log.Poll(), 3u);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  for (int t = 0; t < 3; ++t) {
    EXPECT_THAT(lines[t], HasSubstr(absl::StrCat(R"("count":2,)")));
    EXPECT_THAT(lines[t], HasSubstr(absl::StrCat(R"("tenant":"tenant-)", t, R"(")")));
  }
  EXPECT_EQ(testing::MetricValue(*log.registry(), "dcdir_audit_lines_total"), 3.0);
  // A new window has room again.
  Record(log, *snapshot, "US", "tenant-4");
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(log.Poll(), 1u);
  EXPECT_EQ(log.dropped(), 4u);
}

// Holds the flusher inside Write() until released.
class BlockingWriter final : public AuditWriter {
 public:
  absl::Status Write(std::string_view lines) override {
    if (!entered.HasBeenNotified()) entered.Notify();
    release.WaitForNotification();
    return inner.Write(lines);
  }
  dcdir::testing::Notification entered;
  dcdir::testing::Notification release;
  StringAuditWriter inner;
};

TEST_F(AuditLogTest, RecordingNeverWaitsForAWriteInProgress) {
  BlockingWriter writer;
  AuditLog log(&clock_, &writer);
  auto snapshot = Snapshot(topology_, kUsDcs);
  Record(log, *snapshot, "US");
  clock_.Advance(absl::Seconds(10));
  std::thread flusher([&] { log.Poll(); });
  writer.entered.WaitForNotification();
  // The flusher is stuck writing; the request path still records (this would hang otherwise).
  for (int i = 0; i < 100; ++i) Record(log, *snapshot, "US");
  writer.release.Notify();
  flusher.join();
  log.Flush();
  const std::vector<std::string> lines =
      absl::StrSplit(writer.inner.contents(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(R"("count":1,)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("count":100,)"));
}

TEST_F(AuditLogTest, StopWritesThePartialWindow) {
  AuditLog log(&clock_, &writer_);
  auto snapshot = Snapshot(topology_, kUsDcs);
  Record(log, *snapshot, "US");
  clock_.Advance(absl::Seconds(3));
  log.Stop();
  EXPECT_THAT(Lines(), ElementsAre(HasSubstr(
                           R"({"time":"2027-01-15T08:00:03.000Z","event":"cross_border_fallback","count":1,)")));
}

TEST(FileAuditWriterTest, AppendsToTheFile) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/audit-", ::getpid(), ".log");
  std::remove(path.c_str());
  {
    auto writer = FileAuditWriter::Open(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write("{\"a\":1}\n").ok());
  }
  {
    auto writer = FileAuditWriter::Open(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write("{\"b\":2}\n").ok());
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "{\"a\":1}\n{\"b\":2}\n");
  std::remove(path.c_str());
}

TEST(FileAuditWriterTest, UnwritablePathIsAnError) {
  auto writer = FileAuditWriter::Open("/nonexistent-dir/audit.log");
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(writer.status().message()),
              HasSubstr("cannot open the audit log /nonexistent-dir/audit.log"));
}

}  // namespace
}  // namespace dcdir::audit
