// Network faults between real test hosts (Linux network namespaces, tests/netfault/net_lab.h):
// a real redis-server, real dcdir-server replicas and client hosts that send GetDirectory back
// to back through the fault (netfault_client load) while a reporter keeps the health records
// alive. A checker reads every answer afterwards (docs/REDIS.md, "Network faults"):
//   - every answer: no DC that the config denies to the client's country (eu-residency,
//     cn-sovereign, cn-residency), and never eu-dub, which is reported DOWN in every state;
//   - per scenario: when answers turn stale and fresh again, failed calls, refused writes.
// Needs root; skipped (with the reason) when namespaces cannot be made, and under the
// sanitizers (the servers it runs are the plain build's; nothing of ours runs in-process).

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/netfault/net_lab.h"
#include "tests/testing/sanitizer.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"


namespace dcdir::netfault {
namespace {

using testing::Subprocess;

constexpr char kToken[] = "netfault-token";
const char* const kHealthy = "eu-ams,eu-fra,us-sjc,us-den,us-nyc,us-iad,cn-pek,cn-sha";
const char* const kDown = "eu-dub";
constexpr int kGrpcOk = 0;
constexpr int kGrpcUnavailable = 14;

struct Answer {
  int64_t ms = 0;  // unix ms at send
  std::string replica;
  std::string country;
  int code = -1;
  bool stale = false;
  int64_t latency_us = 0;
  std::string dcs;  // comma-separated, "-" for none
};

std::vector<Answer> ReadAnswers(const std::string& path) {
  std::vector<Answer> answers;
  std::istringstream in(testing::ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    Answer a;
    int stale = 0;
    std::istringstream fields(line);
    if (fields >> a.ms >> a.replica >> a.country >> a.code >> stale >> a.latency_us >> a.dcs) {
      a.stale = stale != 0;
      answers.push_back(std::move(a));
    }
  }
  return answers;
}

struct ReportResult {
  int64_t ms = 0;
  std::string dc;
  int code = -1;
};

std::vector<ReportResult> ReadReports(const std::string& text) {
  std::vector<ReportResult> out;
  std::istringstream in(text);
  ReportResult r;
  while (in >> r.ms >> r.dc >> r.code) out.push_back(r);
  return out;
}

// The invariants every answer must keep, whatever the fault: the violations, one line each.
std::vector<std::string> Violations(const std::vector<Answer>& answers) {
  std::vector<std::string> bad;
  for (const Answer& a : answers) {
    if (a.code != kGrpcOk) continue;
    for (absl::string_view dc : absl::StrSplit(a.dcs, ',')) {
      const bool eu = absl::StartsWith(dc, "eu-"), cn = absl::StartsWith(dc, "cn-");
      std::string why;
      if (a.country == "DE" && !eu) why = "eu-residency denies it";
      if (a.country == "CN" && !cn) why = "cn-residency denies it";
      if (a.country != "CN" && cn) why = "cn-sovereign denies it";
      if (dc == kDown) why = "it is DOWN in every state";
      if (!why.empty()) {
        bad.push_back(absl::StrCat(a.ms, " ", a.replica, " ", a.country, ": ", dc, ": ", why));
      }
    }
  }
  return bad;
}

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// What the scenarios print (docs/REDIS.md's table).
struct Figures {
  int sent = 0, failed = 0, stale = 0;
};
Figures Count(const std::vector<Answer>& answers) {
  Figures f;
  for (const Answer& a : answers) {
    ++f.sent;
    if (a.code != kGrpcOk) ++f.failed;
    if (a.code == kGrpcOk && a.stale) ++f.stale;
  }
  return f;
}

int64_t P99Us(std::vector<int64_t> latencies) {
  if (latencies.empty()) return 0;
  std::sort(latencies.begin(), latencies.end());
  return latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
}

class NetFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::kSanitizerBuild) {
      GTEST_SKIP() << "sanitizer build: the network-fault suite runs the plain build's binaries "
                      "in the plain build only";
    }
    dir_ = testing::MakeTempDir("dcdir-netfault");
    token_file_ = dir_ + "/token";
    std::ofstream(token_file_) << kToken;
  }

  void MakeLab(const std::vector<std::string>& hosts) {
    absl::StatusOr<std::unique_ptr<NetLab>> lab = NetLab::Create(hosts);
    if (!lab.ok()) GTEST_SKIP() << "cannot build test hosts: " << lab.status();
    lab_ = *std::move(lab);
  }

  // redis-server on `host`:6379, answering on every address of its namespace.
  void StartRedis(const std::string& host) {
    Subprocess* redis = lab_->Spawn(
        host, {"/usr/bin/redis-server", "--port", "6379", "--bind", "0.0.0.0",
               "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", dir_});
    ASSERT_TRUE(WaitFor([&] { return absl::StrContains(redis->out(), "Ready to accept"); },
                        absl::Seconds(10)))
        << redis->out() << redis->err();
  }

  // dcdir-server on `host`:50051 against the Redis on `redis_host`.
  Subprocess* StartReplica(const std::string& host, const std::string& redis_host,
                           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {DCDIR_SERVER_BIN,
                                     absl::StrCat("--config=", DCDIR_SOURCE_DIR,
                                                  "/deploy/config/world.yaml"),
                                     "--grpc_host=0.0.0.0",
                                     "--grpc_port=50051",
                                     "--metrics_port=0",
                                     absl::StrCat("--redis=redis://", lab_->ip(redis_host), ":6379"),
                                     absl::StrCat("--auth_token_file=", token_file_),
                                     "--shutdown_grace=0s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess* server = lab_->Spawn(host, argv);
    EXPECT_TRUE(WaitFor([&] { return absl::StrContains(server->err(), "listening on"); },
                        absl::Seconds(20)))
        << server->err();
    return server;
  }

  std::string Target(const std::string& host) const {
    return absl::StrCat(host, "=", lab_->ip(host), ":50051");
  }

  // Reports kHealthy and kDown to `replica` every 300 ms from `client`; returns once one full
  // round was accepted.
  Subprocess* StartReporter(const std::string& client, const std::string& replica,
                            bool wait_accepted = true, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {DCDIR_NETFAULT_CLIENT,        "report",
                                     lab_->ip(replica) + ":50051", token_file_,
                                     absl::StrCat("--healthy=", kHealthy),
                                     absl::StrCat("--down=", kDown)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess* reporter = lab_->Spawn(client, argv);
    if (wait_accepted) {
      EXPECT_TRUE(WaitFor(
          [&] {
            for (const ReportResult& r : ReadReports(reporter->out())) {
              if (r.dc == kDown && r.code == kGrpcOk) return true;
            }
            return false;
          },
          absl::Seconds(10)))
          << reporter->out() << reporter->err();
    }
    return reporter;
  }

  Subprocess* StartLoad(const std::string& client, const std::vector<std::string>& replicas,
                        const std::string& out) {
    std::vector<std::string> argv = {DCDIR_NETFAULT_CLIENT, "load"};
    for (const std::string& r : replicas) argv.push_back(Target(r));
    argv.push_back("--countries=DE,US,CN");
    argv.push_back("--out=" + out);
    return lab_->Spawn(client, argv);
  }

  static bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (!done()) {
      if (absl::Now() > until) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

  static void Print(const std::string& scenario, const std::string& text) {
    std::cout << "[netfault] " << scenario << ": " << text << std::endl;
  }

  std::string dir_;
  std::string token_file_;
  std::unique_ptr<NetLab> lab_;
};

TEST_F(NetFaultTest, ReplicaCutFromRedisServesStaleRefusesWritesAndRecovers) {
  MakeLab({"redis", "r1", "r2", "c1", "c2"});
  if (lab_ == nullptr) return;
  ASSERT_NO_FATAL_FAILURE(StartRedis("redis"));
  StartReplica("r1", "redis");
  StartReplica("r2", "redis");
  Subprocess* reporter = StartReporter("c1", "r2");
  Subprocess* writer = StartReporter("c2", "r1");  // the writes r1 must refuse while cut
  absl::SleepFor(absl::Milliseconds(500));         // the reports reach both replicas
  const std::string out1 = dir_ + "/answers.c1", out2 = dir_ + "/answers.c2";
  Subprocess* load1 = StartLoad("c1", {"r1", "r2"}, out1);
  Subprocess* load2 = StartLoad("c2", {"r1", "r2"}, out2);

  absl::SleepFor(absl::Seconds(2));
  const int64_t cut = NowMs();
  ASSERT_TRUE(lab_->Partition("r1", "redis").ok());
  absl::SleepFor(absl::Seconds(3));
  const int64_t heal = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  absl::SleepFor(absl::Seconds(3));
  for (Subprocess* p : {load1, load2, reporter, writer}) NetLab::Stop(p);

  std::vector<Answer> answers = ReadAnswers(out1);
  for (Answer& a : ReadAnswers(out2)) answers.push_back(std::move(a));
  std::sort(answers.begin(), answers.end(),
            [](const Answer& a, const Answer& b) { return a.ms < b.ms; });
  ASSERT_GT(answers.size(), 400u);
  EXPECT_EQ(Violations(answers), std::vector<std::string>{});

  const Figures all = Count(answers);
  EXPECT_EQ(all.failed, 0) << "GetDirectory must not fail while the store is cut off";
  std::optional<int64_t> first_stale, last_stale_after_heal;
  int r1_stale_before_cut = 0, r1_fresh_while_cut = 0, r2_stale = 0;
  std::map<std::string, std::string> last_r1, last_r2;  // country -> DCs of the last answer
  for (const Answer& a : answers) {
    if (a.replica == "r2") {
      r2_stale += a.stale;
      last_r2[a.country] = a.dcs;
      continue;
    }
    last_r1[a.country] = a.dcs;
    if (a.ms < cut) r1_stale_before_cut += a.stale;
    if (a.ms >= cut && a.stale && !first_stale) first_stale = a.ms + a.latency_us / 1000;
    if (a.ms >= cut + 1000 && a.ms < heal && !a.stale) ++r1_fresh_while_cut;
    if (a.ms >= heal && a.stale) last_stale_after_heal = a.ms + a.latency_us / 1000;
  }
  EXPECT_EQ(r1_stale_before_cut, 0);
  EXPECT_EQ(r2_stale, 0) << "the replica that still reaches Redis stays fresh";
  ASSERT_TRUE(first_stale.has_value()) << "r1 never answered stale while cut off";
  const int64_t to_stale = *first_stale - cut;
  const int64_t to_fresh = last_stale_after_heal.value_or(heal) - heal;
  EXPECT_LE(to_stale, 1000) << "stale within 1 s of the cut";
  EXPECT_EQ(r1_fresh_while_cut, 0) << "every answer from 1 s after the cut on is stale";
  EXPECT_LE(to_fresh, 2000) << "fresh within 2 s of the heal";
  EXPECT_EQ(last_r1, last_r2) << "after the heal both replicas give the same answers";

  int refused = 0, accepted_while_cut = 0;
  for (const ReportResult& r : ReadReports(writer->out())) {
    if (r.ms < cut + 1000 || r.ms >= heal) continue;
    if (r.code == kGrpcUnavailable) ++refused;
    else ++accepted_while_cut;
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(accepted_while_cut, 0) << "r1 refuses writes with UNAVAILABLE while cut off";
  Print("replica-redis cut",
        absl::StrCat("sent ", all.sent, ", failed ", all.failed, ", stale ", all.stale,
                     ", time to stale ", to_stale, " ms, time to fresh ", to_fresh,
                     " ms, reports refused while cut ", refused, ", accepted ",
                     accepted_while_cut));
}

TEST_F(NetFaultTest, SlowThenLossyRedisLinkIsSlowNotDownAndDoesNotFlap) {
  MakeLab({"redis", "r1", "c1"});
  if (lab_ == nullptr) return;
  ASSERT_NO_FATAL_FAILURE(StartRedis("redis"));
  // A 300 ms link needs a round-trip bound above it (docs/REDIS.md, "Faults").
  StartReplica("r1", "redis", {"--redis_op_timeout=1s", "--redis_connect_timeout=1s"});
  // Behind a 300 ms link one write takes 600 ms or more, so the reporter's round of 9 DCs
  // outlasts a 5 s TTL and the DCs would expire for real (answers then fail closed, rightly).
  // An agent on a slow link reports with a TTL of several rounds: 60 s here.
  Subprocess* reporter = StartReporter("c1", "r1", /*wait_accepted=*/true, {"--ttl_seconds=60"});
  absl::SleepFor(absl::Milliseconds(500));
  const std::string out = dir_ + "/answers";
  Subprocess* load = StartLoad("c1", {"r1"}, out);
  absl::SleepFor(absl::Seconds(3));
  const int64_t delay_at = NowMs();
  ASSERT_TRUE(lab_->Delay("r1", "redis", 300).ok());
  absl::SleepFor(absl::Seconds(4));
  const int64_t loss_at = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  ASSERT_TRUE(lab_->Loss("r1", "redis", 0.3).ok());
  absl::SleepFor(absl::Seconds(4));
  const int64_t heal = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  NetLab::Stop(load);
  NetLab::Stop(reporter);

  const std::vector<Answer> answers = ReadAnswers(out);
  ASSERT_GT(answers.size(), 300u);
  EXPECT_EQ(Violations(answers), std::vector<std::string>{});
  const Figures all = Count(answers);
  EXPECT_EQ(all.failed, 0);
  std::vector<int64_t> base, delayed, lossy;
  int stale_delayed = 0, flips_lossy = 0;
  bool was_stale = false;
  for (const Answer& a : answers) {
    if (a.ms < delay_at) base.push_back(a.latency_us);
    else if (a.ms < loss_at) {
      delayed.push_back(a.latency_us);
      stale_delayed += a.stale;
    } else if (a.ms < heal) {
      lossy.push_back(a.latency_us);
      if (a.stale && !was_stale) ++flips_lossy;
      was_stale = a.stale;
    }
  }
  EXPECT_EQ(stale_delayed, 0) << "a store that answers within its bounds is slow, not down";
  // Answers never wait for the store: the writes that cross the 300 ms link run on the store
  // queue, off the threads that answer GetDirectory (on the callback threads, p99 was ~296 ms).
  EXPECT_LT(P99Us(delayed), 100'000) << "GetDirectory p99 behind a 300 ms store link";
  EXPECT_LT(P99Us(lossy), 100'000) << "GetDirectory p99 behind a 30% lossy store link";
  EXPECT_LE(flips_lossy, 1) << "the stale flag does not flap on a lossy link";

  // Reports through the slow link: each one succeeds or fails clearly within its 1 s deadline.
  int reports_ok = 0, reports_failed = 0;
  for (const ReportResult& r : ReadReports(reporter->out())) {
    if (r.ms < delay_at || r.ms >= heal) continue;
    if (r.code == kGrpcOk) ++reports_ok;
    else ++reports_failed;
  }
  EXPECT_GT(reports_ok, 0) << "writes through a 300 ms link succeed";
  for (const Answer& a : answers) {
    if (a.code != kGrpcOk) {
      ADD_FAILURE() << "GetDirectory failed " << a.ms - delay_at
                    << " ms after the delay began: code " << a.code << " after "
                    << a.latency_us << " us";
    }
  }
  Print("delay 300 ms then 30% loss",
        absl::StrCat("sent ", all.sent, ", failed ", all.failed, ", stale ", all.stale,
                     "; GetDirectory p99 no fault ", P99Us(base), " us, 300 ms delay ",
                     P99Us(delayed), " us, 30% loss ", P99Us(lossy), " us; stale flips under loss ",
                     flips_lossy, "; reports ok ", reports_ok, ", failed ", reports_failed));
}

TEST_F(NetFaultTest, ARestartWhileRedisIsAwayServesTheSavedSnapshotStale) {
  MakeLab({"redis", "r1", "c1"});
  if (lab_ == nullptr) return;
  ASSERT_NO_FATAL_FAILURE(StartRedis("redis"));
  const std::string snapshot = dir_ + "/snapshot";
  const std::vector<std::string> flags = {"--snapshot_file=" + snapshot,
                                          "--snapshot_max_age=1m"};
  Subprocess* server = StartReplica("r1", "redis", flags);
  Subprocess* reporter = StartReporter("c1", "r1");
  struct stat st;
  ASSERT_TRUE(WaitFor([&] { return ::stat(snapshot.c_str(), &st) == 0; }, absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(1500));  // the file holds a state with every report
  const std::string out = dir_ + "/answers";
  Subprocess* load = StartLoad("c1", {"r1"}, out);
  absl::SleepFor(absl::Seconds(1));

  ASSERT_TRUE(lab_->Partition("r1", "redis").ok());
  server->Signal(SIGKILL);
  server->Wait();
  const int64_t restart = NowMs();
  server = StartReplica("r1", "redis", flags);
  EXPECT_TRUE(absl::StrContains(server->err(), "serving the snapshot file")) << server->err();
  absl::SleepFor(absl::Seconds(2));
  const int64_t heal = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  absl::SleepFor(absl::Seconds(3));

  // A corrupt file means today's behaviour: fail closed, with the reason in the log.
  ASSERT_TRUE(lab_->Partition("r1", "redis").ok());
  server->Signal(SIGKILL);
  server->Wait();
  {
    std::string text = testing::ReadFile(snapshot);
    ASSERT_FALSE(text.empty());
    text[text.size() / 2] ^= 0x01;
    std::ofstream(snapshot, std::ios::trunc) << text;
  }
  const int64_t corrupt_restart = NowMs();
  server = StartReplica("r1", "redis", flags);
  EXPECT_TRUE(absl::StrContains(server->err(), "the snapshot file is not used"))
      << server->err();
  absl::SleepFor(absl::Seconds(1));
  const int64_t end = NowMs();
  NetLab::Stop(load);
  NetLab::Stop(reporter);

  const std::vector<Answer> answers = ReadAnswers(out);
  EXPECT_EQ(Violations(answers), std::vector<std::string>{});
  std::map<std::string, std::string> before;  // country -> last fresh answer before the cut
  std::optional<int64_t> first_served, fresh_again;
  int failed_restart = 0, stale_served = 0, fresh_while_away = 0, differ = 0, ok_corrupt = 0,
      failed_corrupt = 0;
  for (const Answer& a : answers) {
    if (a.ms < restart) {
      if (a.code == kGrpcOk && !a.stale) before[a.country] = a.dcs;
    } else if (a.ms < heal) {
      if (a.code != kGrpcOk) {
        ++failed_restart;
        continue;
      }
      if (!first_served) first_served = a.ms;
      if (!a.stale) ++fresh_while_away;
      ++stale_served;
      if (a.dcs != before[a.country]) ++differ;
    } else if (a.ms < corrupt_restart) {
      if (a.code == kGrpcOk && !a.stale && !fresh_again) fresh_again = a.ms;
    } else if (a.ms < end) {
      if (a.code == kGrpcOk) ++ok_corrupt;
      else ++failed_corrupt;
    }
  }
  ASSERT_TRUE(first_served.has_value())
      << "the restarted replica served nothing; the load's errors:\n"
      << load->err().substr(0, 2000);
  EXPECT_GT(stale_served, 0);
  EXPECT_EQ(fresh_while_away, 0) << "the saved snapshot is served marked stale";
  EXPECT_EQ(differ, 0) << "the saved snapshot answers as the replica did before";
  ASSERT_TRUE(fresh_again.has_value());
  EXPECT_LE(*fresh_again - heal, 2000) << "fresh within 2 s of the heal";
  EXPECT_EQ(ok_corrupt, 0) << "a corrupt snapshot file is not served";
  EXPECT_GT(failed_corrupt, 0);
  Print("restart while Redis is away",
        absl::StrCat("sent ", answers.size(), ", failed during the restart ", failed_restart,
                     ", stale served from the file ", stale_served,
                     ", time to fresh after heal ", *fresh_again - heal,
                     " ms; corrupt file: ", failed_corrupt, " failed closed, ", ok_corrupt,
                     " served"));
}

}  // namespace
}  // namespace dcdir::netfault
