// Live config reloads on the real binary (issue "close the holes at the edges", item 1): a file
// caught half-written is never served, a loosening is refused unless acknowledged, a
// tightening applies at once, and --check_config --against says the same before a deploy.
//
// The world (tests/edges/edge_worlds.h): us -> [us-east], secondary ca-tor; ca; cn -> cn-pek;
// min_secondaries 2. With us-east congested (0.95) and ca-tor DOWN, a US client falls back and
// its secondaries would be topped up with the nearest allowed usable DC: only the deny rules
// keep cn-pek out of that list. So any config without cn-sovereign shows at once as cn-pek in
// US answers.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "tests/edges/edge_worlds.h"
#include "tests/testing/spawned_server.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ReloadEdgesTest : public ::testing::Test {
 protected:
  void Start(const std::string& poll_interval) {
    dir_ = MakeTempDir("dcdir-reload");
    path_ = dir_ + "/world.yaml";
    WriteFileAtomically(path_, ThreeRegionWorld());
    auto server = SpawnedServer::Start(
        {.config_path = path_, .flags = {"--config_poll_interval=" + poll_interval}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_TRUE(server_->Report("us-east", v1::HEALTH_STATUS_HEALTHY, 0.95).ok());
    ASSERT_TRUE(server_->Report("ca-tor", v1::HEALTH_STATUS_DOWN, 0.1).ok());
    ASSERT_TRUE(server_->Report("cn-pek", v1::HEALTH_STATUS_HEALTHY, 0.1).ok());
    v1::Directory us;
    ASSERT_TRUE(server_->Get("US", &us).ok());
    ASSERT_THAT(Ids(us.primaries()), ElementsAre("us-east"));
    ASSERT_TRUE(us.fallback_active());
    ASSERT_THAT(Ids(us.secondaries()), IsEmpty());  // ca-tor DOWN, cn-pek denied
    served_version_ = config::ContentVersion(ThreeRegionWorld());
    ASSERT_EQ(us.config_version(), served_version_);
  }

  static std::vector<std::string> Ids(
      const google::protobuf::RepeatedPtrField<v1::DataCenter>& dcs) {
    std::vector<std::string> ids;
    for (const v1::DataCenter& dc : dcs) ids.push_back(dc.id());
    return ids;
  }

  // The config version US answers are computed from now ("" when GetDirectory fails).
  std::string ServedVersion() {
    v1::Directory us;
    return server_->Get("US", &us).ok() ? us.config_version() : "";
  }

  double ReloadCount(const std::string& result) {
    return server_->Metric("dcdir_config_reload_total", {{"result", result}}).value_or(-1);
  }

  std::string dir_;
  std::string path_;
  std::string served_version_;
  std::unique_ptr<SpawnedServer> server_;
};

// The issue's input: the file rewritten in place by `{ head; sleep 2.5; rules; } > world.yaml`,
// with the server polling every second. No sampled US answer may ever offer cn-pek (both the
// old and the new file forbid it), and the new file is served once complete.
TEST_F(ReloadEdgesTest, AFileCaughtHalfWrittenIsNeverServed) {
  Start("1s");
  const std::string head = std::string(kThreeRegionHead) + "# rewritten in place\n";
  const std::string rules = std::string("deny_rules:\n") + kSovereignRule + kResidencyRule;
  const std::string new_version = config::ContentVersion(head + rules);
  std::atomic<bool> written{false};
  std::thread writer([&] {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    absl::SleepFor(absl::Milliseconds(2500));
    ASSERT_EQ(::write(fd, rules.data(), rules.size()), static_cast<ssize_t>(rules.size()));
    ::close(fd);
    written = true;
  });
  int samples = 0;
  std::vector<std::string> offending;
  std::vector<std::string> versions;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string version;
  while (absl::Now() < deadline) {
    v1::Directory us;
    const grpc::Status s = server_->Get("US", &us);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ++samples;
    version = us.config_version();
    if (versions.empty() || versions.back() != version) versions.push_back(version);
    for (const auto& list : {us.primaries(), us.secondaries()}) {
      for (const v1::DataCenter& dc : list) {
        if (dc.id() == "cn-pek") offending.push_back(absl::StrCat("version ", version));
      }
    }
    if (written && version == new_version) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  writer.join();
  EXPECT_THAT(offending, IsEmpty()) << samples << " samples";
  EXPECT_GT(samples, 100);
  // Only the old and then the complete new file were ever served: never the prefix.
  EXPECT_THAT(versions, ElementsAre(served_version_, new_version)) << server_->log();
  EXPECT_EQ(ReloadCount("success"), 1.0);
  EXPECT_EQ(ReloadCount("error"), 0.0);
  // The prefix, if two polls saw it unchanged, was refused as a loosening (it has no rules).
  EXPECT_LE(ReloadCount("loosening_refused"), 1.0);
  EXPECT_EQ(server_->Metric("dcdir_cross_border_fallback_total",
                            {{"client_region", "us"}, {"dc_region", "cn"}})
                .value_or(0),
            0.0);
}

// A valid file with one deny rule deleted: refused with one error line naming the pairs and
// the rule, counted; the old rules keep serving. The same file acknowledging the served
// version is applied.
TEST_F(ReloadEdgesTest, ADroppedRuleIsRefusedUnlessAcknowledged) {
  Start("200ms");
  const std::string dropped =
      std::string(kThreeRegionHead) + "deny_rules:\n" + kResidencyRule;  // no cn-sovereign
  const std::string dropped_version = config::ContentVersion(dropped);
  WriteFileAtomically(path_, dropped);
  ASSERT_TRUE(PollUntil([&] { return ReloadCount("loosening_refused") == 1.0; },
                        absl::Seconds(10)))
      << server_->log();
  const std::string expected_line = absl::StrCat(
      "config reload refused, still serving the previous config: the new config (version ",
      dropped_version, ") allows 2 (client, DC) pairs that the served config (version ",
      served_version_,
      ") denies: US -> cn-pek (rule cn-sovereign removed), CA -> cn-pek (rule cn-sovereign "
      "removed); to apply it on purpose, add \"allow_loosening_from: ",
      served_version_, "\" to the new file");
  EXPECT_THAT(LogMessages(server_->log()), Contains(expected_line)) << server_->log();
  EXPECT_EQ(ReloadCount("success"), 0.0);
  // The old rules keep serving: still no cn-pek for a US client, and Explain names the rule.
  absl::SleepFor(absl::Milliseconds(500));  // a few more polls: refused once, not re-read
  EXPECT_EQ(ReloadCount("loosening_refused"), 1.0);
  v1::Directory us;
  ASSERT_TRUE(server_->Get("US", &us).ok());
  EXPECT_EQ(us.config_version(), served_version_);
  EXPECT_THAT(Ids(us.secondaries()), IsEmpty());
  v1::DirectoryExplanation explanation;
  ASSERT_TRUE(server_->Explain("US", &explanation).ok());
  for (const v1::DataCenterVerdict& v : explanation.datacenters()) {
    if (v.datacenter().id() != "cn-pek") continue;
    EXPECT_EQ(v.reason(), v1::VERDICT_REASON_DENY_RULE);
    EXPECT_EQ(v.rule(), "cn-sovereign");
  }

  // Acknowledged: applied, and the loosening is what the operator asked for.
  const std::string acked =
      absl::StrCat("allow_loosening_from: ", served_version_, "\n", dropped);
  WriteFileAtomically(path_, acked);
  ASSERT_TRUE(PollUntil([&] { return ServedVersion() == config::ContentVersion(acked); },
                        absl::Seconds(10)))
      << server_->log();
  EXPECT_EQ(ReloadCount("success"), 1.0);
  EXPECT_THAT(LogMessages(server_->log()),
              Contains(absl::StrCat("config reloaded, version ", config::ContentVersion(acked),
                                    " (loosens 2 (client, DC) pairs, acknowledged by "
                                    "allow_loosening_from)")));
  ASSERT_TRUE(server_->Get("US", &us).ok());
  EXPECT_THAT(Ids(us.secondaries()), ElementsAre("cn-pek"));
  EXPECT_TRUE(us.secondaries(0).cross_border());
}

// A tightening (a new rule) applies without acknowledgement, at the poll after the one that
// first saw it: within two poll intervals of the write.
TEST_F(ReloadEdgesTest, ATighteningAppliesWithinOnePoll) {
  Start("1s");
  ASSERT_TRUE(server_->Report("ca-tor", v1::HEALTH_STATUS_HEALTHY, 0.1).ok());
  v1::Directory us;
  ASSERT_TRUE(server_->Get("US", &us).ok());
  ASSERT_THAT(Ids(us.secondaries()), ElementsAre("ca-tor"));
  const std::string tighter = ThreeRegionWorld() + R"(  - name: us-stays-home
    clients: {country: {in: [US]}}
    datacenters: {country: {not_in: [US]}}
)";
  // The 2020 check: ca-tor is a configured secondary of us, now denied to US clients.
  const std::string valid = absl::StrReplaceAll(tighter, {{"secondaries: [ca-tor]", "secondaries: []"}});
  const absl::Time written = absl::Now();
  WriteFileAtomically(path_, valid);
  const std::optional<absl::Duration> took = PollUntil(
      [&] { return ServedVersion() == config::ContentVersion(valid); }, absl::Seconds(10),
      absl::Milliseconds(10));
  ASSERT_TRUE(took.has_value()) << server_->log();
  EXPECT_LE(absl::Now() - written, absl::Seconds(3));  // 2 polls of 1 s, with margin
  EXPECT_EQ(ReloadCount("success"), 1.0);
  EXPECT_EQ(ReloadCount("loosening_refused"), 0.0);
  EXPECT_THAT(LogMessages(server_->log()),
              Contains(absl::StrCat("config reloaded, version ", config::ContentVersion(valid),
                                    " (tightens 1 (client, DC) pairs)")));
  ASSERT_TRUE(server_->Get("US", &us).ok());
  EXPECT_THAT(Ids(us.secondaries()), IsEmpty());
}

struct CheckRun {
  int exit_code = -1;
  std::string out;
};

CheckRun CheckAgainst(const std::string& config, const std::string& against,
                 const std::string& extra = "") {
  Subprocess p({DCDIR_SERVER_BIN, "--check_config", "--config=" + config, "--against=" + against,
                extra.empty() ? "--json=false" : extra});
  const std::optional<int> code = p.Wait();
  return {code.value_or(-1), p.out() + p.err()};
}

TEST(CheckConfigAgainstTest, PrintsTheDifferenceAndExitsThreeOnAnUnacknowledgedLoosening) {
  const std::string dir = MakeTempDir("dcdir-against");
  const std::string old_path = dir + "/old.yaml";
  const std::string new_path = dir + "/new.yaml";
  WriteFileAtomically(old_path, ThreeRegionWorld());
  const std::string old_version = config::ContentVersion(ThreeRegionWorld());
  const std::string dropped = std::string(kThreeRegionHead) + "deny_rules:\n" + kResidencyRule;
  WriteFileAtomically(new_path, dropped);
  CheckRun run = CheckAgainst(new_path, old_path);
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_THAT(run.out,
              HasSubstr(absl::StrCat(
                  "Compliance against the served config (version ", old_version, " -> ",
                  config::ContentVersion(dropped),
                  "):\n  region us:\n    newly allowed: cn-pek for US (was denied by "
                  "cn-sovereign, removed)\n  region ca:\n    newly allowed: cn-pek for CA (was "
                  "denied by cn-sovereign, removed)\n  LOOSENING NOT ACKNOWLEDGED: a live reload "
                  "refuses this file; to apply it on purpose, add \"allow_loosening_from: ",
                  old_version, "\"\n")));
  // JSON for pipelines.
  run = CheckAgainst(new_path, old_path, "--json");
  EXPECT_EQ(run.exit_code, 3) << run.out;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat(
                           "\"against\":{\"served_version\":\"", old_version,
                           "\",\"new_version\":\"", config::ContentVersion(dropped),
                           "\",\"acknowledged\":false,\"refused\":true,\"loosened\":[{\"client\":"
                           "\"US\",\"region\":\"us\",\"datacenter\":\"cn-pek\",\"rule\":\"cn-"
                           "sovereign\",\"rule_fate\":\"removed\"},{\"client\":\"CA\",")));
  // Acknowledged: exit 0, and the report says so.
  WriteFileAtomically(new_path, absl::StrCat("allow_loosening_from: ", old_version, "\n", dropped));
  run = CheckAgainst(new_path, old_path);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("  loosening acknowledged (allow_loosening_from: ",
                                              old_version, "): a live reload applies it\n")));
  // A tightening: exit 0, listed as newly denied.
  WriteFileAtomically(new_path, ThreeRegionWorld() + R"(  - name: ca-no-us
    clients: {country: {in: [CA]}}
    datacenters: {datacenter: {in: [us-east]}}
)");
  run = CheckAgainst(new_path, old_path);
  EXPECT_EQ(run.exit_code, 1) << run.out;  // us-east is a configured secondary of ca: 2020 check
  EXPECT_THAT(run.out, HasSubstr("is denied by deny rule \"ca-no-us\""));
  WriteFileAtomically(new_path, absl::StrReplaceAll(ThreeRegionWorld() + R"(  - name: ca-no-us
    clients: {country: {in: [CA]}}
    datacenters: {datacenter: {in: [us-east]}}
)", {{"    primaries: [ca-tor]\n    secondaries: [us-east]", "    primaries: [ca-tor]\n    secondaries: []"}}));
  run = CheckAgainst(new_path, old_path);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("  region ca:\n    newly denied:  us-east for CA (by ca-no-us)\n"));
}

}  // namespace
}  // namespace dcdir::testing
