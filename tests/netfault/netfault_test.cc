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
#include <set>
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
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcUnavailable = 14;
constexpr int kServing = 1;  // grpc.health.v1.HealthCheckResponse.SERVING

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

struct HealthCheck {
  int64_t ms = 0;
  int code = -1;
  int serving = -1;
};

std::vector<HealthCheck> ReadHealthChecks(const std::string& text) {
  std::vector<HealthCheck> out;
  std::istringstream in(text);
  HealthCheck h;
  while (in >> h.ms >> h.code >> h.serving) out.push_back(h);
  return out;
}

struct TenantWrite {
  int64_t ms = 0;
  std::string replica;
  std::string tenant;
  int code = -1;
  std::string reason;
};

std::vector<TenantWrite> ReadTenantWrites(const std::string& text) {
  std::vector<TenantWrite> out;
  std::istringstream in(text);
  TenantWrite w;
  while (in >> w.ms >> w.replica >> w.tenant >> w.code >> w.reason) out.push_back(w);
  return out;
}

// A report as the checker sees it: accepted at most `kReportDeadlineMs` after it was sent, so
// its DC is live until at least ms + ttl_ms and at most ms + kReportDeadlineMs + ttl_ms.
struct AcceptedReport {
  int64_t ms = 0;
  int64_t ttl_ms = 0;
};
constexpr int64_t kReportDeadlineMs = 1000;  // netfault_client report's deadline

// The second invariant: a fresh answer (not marked stale) names only DCs whose health it could
// come from, i.e. with a HEALTHY report accepted before the answer and not expired when it was
// asked (`reports`: every reporter's accepted HEALTHY reports, by DC). The violations.
std::vector<std::string> ExpiredViolations(
    const std::vector<Answer>& answers,
    const std::map<std::string, std::vector<AcceptedReport>>& reports) {
  std::vector<std::string> bad;
  for (const Answer& a : answers) {
    if (a.code != kGrpcOk || a.stale) continue;
    const int64_t answered = a.ms + a.latency_us / 1000 + 1;
    for (absl::string_view dc : absl::StrSplit(a.dcs, ',')) {
      auto it = reports.find(std::string(dc));
      bool live = false;
      if (it != reports.end()) {
        for (const AcceptedReport& r : it->second) {
          if (r.ms <= answered && a.ms <= r.ms + kReportDeadlineMs + r.ttl_ms) live = true;
        }
      }
      if (!live) {
        bad.push_back(absl::StrCat(a.ms, " ", a.replica, " ", a.country, ": ", dc,
                                   ": fresh, but no HEALTHY report of it was live"));
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

  // redis-server on `host`:6379, answering on every address of its namespace; nullptr (and a
  // test failure) when it did not get ready.
  Subprocess* StartRedis(const std::string& host, const std::vector<std::string>& extra = {}) {
    // A directory of its own: a replica's full sync writes an RDB file there.
    const std::string redis_dir = absl::StrCat(dir_, "/redis-", host);
    ::mkdir(redis_dir.c_str(), 0700);
    std::vector<std::string> argv = {"/usr/bin/redis-server",
                                     "--port",
                                     "6379",
                                     "--bind",
                                     "0.0.0.0",
                                     "--protected-mode",
                                     "no",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     redis_dir};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess* redis = lab_->Spawn(host, argv);
    if (!WaitFor([&] { return absl::StrContains(redis->out(), "Ready to accept"); },
                 absl::Seconds(10))) {
      ADD_FAILURE() << redis->out() << redis->err();
      return nullptr;
    }
    return redis;
  }

  // redis-sentinel on `host`:26379 monitoring `master_host`:6379 as "dcdir" (quorum 2; the
  // fixture's timings, tests/testing/redis_fixture.cc: down after 1 s, failover timeout 3 s).
  Subprocess* StartSentinel(const std::string& host, const std::string& master_host) {
    const std::string conf = absl::StrCat(dir_, "/sentinel-", host, ".conf");
    std::ofstream(conf) << "port 26379\nbind 0.0.0.0\nprotected-mode no\ndir " << dir_ << "\n"
                        << "sentinel monitor dcdir " << lab_->ip(master_host) << " 6379 2\n"
                        << "sentinel down-after-milliseconds dcdir 1000\n"
                        << "sentinel failover-timeout dcdir 3000\n"
                        << "sentinel parallel-syncs dcdir 1\n";
    return lab_->Spawn(host, {"/usr/bin/redis-sentinel", conf});
  }

  // dcdir-server on `host`:50051 against the Redis on `redis_host`, or against the URL
  // `redis_host` when it holds "://".
  Subprocess* StartReplica(const std::string& host, const std::string& redis_host,
                           const std::vector<std::string>& extra = {}) {
    const std::string url = absl::StrContains(redis_host, "://")
                                ? redis_host
                                : absl::StrCat("redis://", lab_->ip(redis_host), ":6379");
    std::vector<std::string> argv = {
        DCDIR_SERVER_BIN,
        absl::StrCat("--config=", DCDIR_SOURCE_DIR, "/deploy/config/world.yaml"),
        "--grpc_host=0.0.0.0",
        "--grpc_port=50051",
        "--metrics_port=0",
        "--redis=" + url,
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
    int64_t ttl_seconds = 5;  // netfault_client's default
    for (const std::string& flag : extra) {
      if (absl::StartsWith(flag, "--ttl_seconds=")) {
        EXPECT_TRUE(absl::SimpleAtoi(flag.substr(sizeof("--ttl_seconds=") - 1), &ttl_seconds));
      }
    }
    reporters_.emplace_back(reporter, ttl_seconds * 1000);
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

  // Both invariants for every answer (Violations, ExpiredViolations), against every report
  // any reporter of this test had accepted.
  std::vector<std::string> CheckAnswers(const std::vector<Answer>& answers) const {
    std::map<std::string, std::vector<AcceptedReport>> accepted;
    for (const auto& [reporter, ttl_ms] : reporters_) {
      for (const ReportResult& r : ReadReports(reporter->out())) {
        if (r.code == kGrpcOk && r.dc != kDown) accepted[r.dc].push_back({r.ms, ttl_ms});
      }
    }
    std::vector<std::string> bad = Violations(answers);
    for (std::string& line : ExpiredViolations(answers, accepted)) bad.push_back(std::move(line));
    return bad;
  }

  std::string dir_;
  std::string token_file_;
  std::unique_ptr<NetLab> lab_;
  std::vector<std::pair<Subprocess*, int64_t>> reporters_;  // with their TTL in ms
};

TEST_F(NetFaultTest, ReplicaCutFromRedisServesStaleRefusesWritesAndRecovers) {
  MakeLab({"redis", "r1", "r2", "c1", "c2"});
  if (lab_ == nullptr) return;
  ASSERT_NE(StartRedis("redis"), nullptr);
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
  EXPECT_EQ(CheckAnswers(answers), std::vector<std::string>{});

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
    if (r.code == kGrpcUnavailable)
      ++refused;
    else
      ++accepted_while_cut;
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(accepted_while_cut, 0) << "r1 refuses writes with UNAVAILABLE while cut off";
  Print(
      "replica-redis cut",
      absl::StrCat("sent ", all.sent, ", failed ", all.failed, ", stale ", all.stale,
                   ", time to stale ", to_stale, " ms, time to fresh ", to_fresh,
                   " ms, reports refused while cut ", refused, ", accepted ", accepted_while_cut));
}

TEST_F(NetFaultTest, SlowThenLossyRedisLinkIsSlowNotDownAndDoesNotFlap) {
  MakeLab({"redis", "r1", "c1"});
  if (lab_ == nullptr) return;
  ASSERT_NE(StartRedis("redis"), nullptr);
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
  EXPECT_EQ(CheckAnswers(answers), std::vector<std::string>{});
  const Figures all = Count(answers);
  EXPECT_EQ(all.failed, 0);
  std::vector<int64_t> base, delayed, lossy;
  int stale_delayed = 0, flips_lossy = 0;
  bool was_stale = false;
  for (const Answer& a : answers) {
    if (a.ms < delay_at)
      base.push_back(a.latency_us);
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
    if (r.code == kGrpcOk)
      ++reports_ok;
    else
      ++reports_failed;
  }
  EXPECT_GT(reports_ok, 0) << "writes through a 300 ms link succeed";
  for (const Answer& a : answers) {
    if (a.code != kGrpcOk) {
      ADD_FAILURE() << "GetDirectory failed " << a.ms - delay_at
                    << " ms after the delay began: code " << a.code << " after " << a.latency_us
                    << " us";
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
  ASSERT_NE(StartRedis("redis"), nullptr);
  const std::string snapshot = dir_ + "/snapshot";
  const std::vector<std::string> flags = {"--snapshot_file=" + snapshot, "--snapshot_max_age=1m"};
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
  EXPECT_TRUE(absl::StrContains(server->err(), "the snapshot file is not used")) << server->err();
  absl::SleepFor(absl::Seconds(1));
  const int64_t end = NowMs();
  NetLab::Stop(load);
  NetLab::Stop(reporter);

  const std::vector<Answer> answers = ReadAnswers(out);
  EXPECT_EQ(CheckAnswers(answers), std::vector<std::string>{});
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
      if (a.code == kGrpcOk)
        ++ok_corrupt;
      else
        ++failed_corrupt;
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
                     ", stale served from the file ", stale_served, ", time to fresh after heal ",
                     *fresh_again - heal, " ms; corrupt file: ", failed_corrupt, " failed closed, ",
                     ok_corrupt, " served"));
}

TEST_F(NetFaultTest, ReplicaCutFromOneClientStaysHealthyForTheOthers) {
  MakeLab({"redis", "r1", "r2", "c1", "c2"});
  if (lab_ == nullptr) return;
  ASSERT_NE(StartRedis("redis"), nullptr);
  StartReplica("r1", "redis");
  StartReplica("r2", "redis");
  Subprocess* reporter = StartReporter("c2", "r2");
  absl::SleepFor(absl::Milliseconds(500));
  const std::string out1 = dir_ + "/answers.c1", out2 = dir_ + "/answers.c2";
  Subprocess* load1 = StartLoad("c1", {"r1", "r2"}, out1);
  Subprocess* load2 = StartLoad("c2", {"r1", "r2"}, out2);
  Subprocess* health =
      lab_->Spawn("c2", {DCDIR_NETFAULT_CLIENT, "health", lab_->ip("r1") + ":50051"});

  absl::SleepFor(absl::Seconds(2));
  const int64_t cutting = NowMs();
  ASSERT_TRUE(lab_->Partition("r1", "c1").ok());
  const int64_t cut = NowMs();  // every call c1 sends to r1 from here on is dropped
  absl::SleepFor(absl::Seconds(3));
  const int64_t heal = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  absl::SleepFor(absl::Seconds(3));
  const int64_t end = NowMs();
  for (Subprocess* p : {load1, load2, health, reporter}) NetLab::Stop(p);

  std::vector<Answer> c1 = ReadAnswers(out1), c2 = ReadAnswers(out2);
  std::vector<Answer> answers = c1;
  answers.insert(answers.end(), c2.begin(), c2.end());
  ASSERT_GT(answers.size(), 400u);
  EXPECT_EQ(CheckAnswers(answers), std::vector<std::string>{});

  // The other paths: every answer OK and fresh, all along.
  std::vector<const Answer*> unaffected;
  for (const Answer& a : c1) {
    if (a.replica == "r2") unaffected.push_back(&a);
  }
  for (const Answer& a : c2) unaffected.push_back(&a);
  int others = 0, others_bad = 0;
  for (const Answer* p : unaffected) {
    const Answer& a = *p;
    ++others;
    if (a.code != kGrpcOk || a.stale) {
      ++others_bad;
      ADD_FAILURE() << "an unaffected path answered code " << a.code << ", stale " << a.stale
                    << ": " << a.replica << " at " << a.ms - cut << " ms after the cut";
    }
  }
  EXPECT_GT(others, 300);

  // c1 -> r1: OK and fresh before the cut; every call sent while cut fails with UNAVAILABLE or
  // DEADLINE_EXCEEDED; fresh answers again within 2 s of the heal, and none fails after that.
  int failed_before = 0, failed_setup = 0, failed_cut = 0, ok_cut = 0, wrong_code = 0,
      failed_late = 0;
  std::optional<int64_t> back;
  for (const Answer& a : c1) {
    if (a.replica != "r1") continue;
    if (a.ms < cutting) {
      if (a.code != kGrpcOk || a.stale) ++failed_before;
    } else if (a.ms < cut) {
      failed_setup += a.code != kGrpcOk;  // sent while the rules were being added
    } else if (a.ms < heal) {
      ++(a.code == kGrpcOk ? ok_cut : failed_cut);
      if (a.code != kGrpcOk && a.code != kGrpcUnavailable && a.code != kGrpcDeadlineExceeded) {
        ++wrong_code;
      }
    } else {
      if (a.code == kGrpcOk && !a.stale && !back) back = a.ms + a.latency_us / 1000;
      if (a.code != kGrpcOk && a.ms >= heal + 2000) ++failed_late;
    }
  }
  EXPECT_EQ(failed_before, 0);
  EXPECT_GT(failed_cut, 0);
  EXPECT_EQ(ok_cut, 0) << "r1 answered c1 through the partition";
  EXPECT_EQ(wrong_code, 0) << "a cut path fails with UNAVAILABLE or DEADLINE_EXCEEDED";
  ASSERT_TRUE(back.has_value()) << "c1 never got an answer from r1 after the heal";
  EXPECT_LE(*back - heal, 2000) << "c1 gets fresh answers from r1 within 2 s of the heal";
  EXPECT_EQ(failed_late, 0);

  // r1's health, asked from c2 all along: SERVING (r1 is fine; only one client path is cut).
  const std::vector<HealthCheck> checks = ReadHealthChecks(health->out());
  int checks_cut = 0, not_serving = 0;
  for (const HealthCheck& h : checks) {
    if (h.ms >= end) continue;
    if (h.ms >= cut && h.ms < heal) ++checks_cut;
    if (h.code != kGrpcOk || h.serving != kServing) {
      ++not_serving;
      ADD_FAILURE() << "health from c2 at " << h.ms - cut << " ms after the cut: code " << h.code
                    << ", status " << h.serving;
    }
  }
  EXPECT_GT(checks_cut, 10) << health->err();
  const Figures all = Count(answers);
  Print(
      "replica cut from one client",
      absl::StrCat("sent ", all.sent, ", failed ", all.failed, " (c1->r1: ", failed_cut,
                   " sent while cut, ", failed_setup, " while the cut was being set up, ",
                   all.failed - failed_cut - failed_setup - others_bad, " after the heal), stale ",
                   all.stale, "; unaffected paths ", others, " answers, ", others_bad,
                   " bad; r1 health from c2 ", checks.size(), " checks, ", not_serving,
                   " not SERVING; c1->r1 fresh again ", *back - heal, " ms after the heal"));
}

// DISABLED: it finds a bug (in 2 of 6 runs on 2026-11-30). A tenant write that r1 answered
// STORE_WRITE_UNCONFIRMED right at the cut (it reached redis1, WAIT saw no replica) is lost in
// the failover, as the contract allows; but DirectoryState::SetTenant's WriteFailed queues the id
// for a re-read, and when that GET still reaches redis1 (the WAIT ends 500 ms after the write,
// the Sentinel-majority check marks the store down ~550-700 ms after the cut) r1 applies the
// policy. After the heal r1 resyncs from the new master by its tenant log, which does not list
// the lost id, so r1 keeps serving a policy that neither the store nor r2 has until its next full
// resync (--full_resync_interval, 60 s). Evidence, 10 s after the load stopped:
//   listed by r1 only: { "w-r1-20 (14 STORE_WRITE_UNCONFIRMED)" }
// Everything else held in all 6 runs (0 acknowledged policies lost, 0 "not applied" ones
// applied, 0 failed GetDirectory). Run it with
//   --gtest_also_run_disabled_tests --gtest_filter='*SplitBrain*'
//
// Split brain behind three Sentinels: the master redis1 and the replica r1 are cut off from the
// Sentinels, the other Redis nodes and the other replica r2; Sentinel promotes one of redis2 and
// redis3. The client host c1 still reaches both sides and keeps writing tenant policies through
// both replicas. redis3 is there so that the majority side has a master with a replica: WAIT 1
// and min-replicas-to-write 1 let it accept writes during the partition.
TEST_F(NetFaultTest, SplitBrainLosesNoAcknowledgedTenantPolicy) {
  MakeLab({"redis1", "redis2", "redis3", "s1", "s2", "s3", "r1", "r2", "c1"});
  if (lab_ == nullptr) return;
  // As the chart's Redis (helm/dcdir/files/redis-init.sh): min-replicas-to-write 1, but a lag
  // bound of 2 s instead of 5 s to keep the scenario short.
  const std::vector<std::string> redis_flags = {"--min-replicas-to-write",    "1",
                                                "--min-replicas-max-lag",     "2",
                                                "--repl-diskless-sync-delay", "0"};
  ASSERT_NE(StartRedis("redis1", redis_flags), nullptr);
  std::vector<Subprocess*> replicas_of_1;
  for (const std::string host : {"redis2", "redis3"}) {
    std::vector<std::string> flags = redis_flags;
    flags.insert(flags.end(), {"--replicaof", lab_->ip("redis1"), "6379"});
    Subprocess* redis = StartRedis(host, flags);
    ASSERT_NE(redis, nullptr);
    replicas_of_1.push_back(redis);
  }
  for (Subprocess* redis : replicas_of_1) {
    ASSERT_TRUE(
        WaitFor([&] { return absl::StrContains(redis->out(), "sync: Finished with success"); },
                absl::Seconds(10)))
        << redis->out();
  }
  std::vector<Subprocess*> sentinels;
  for (const std::string host : {"s1", "s2", "s3"}) {
    sentinels.push_back(StartSentinel(host, "redis1"));
  }
  for (Subprocess* sentinel : sentinels) {
    // Every sentinel must know both replicas and the two other sentinels before a failover can
    // be agreed on.
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string out = sentinel->out();
          auto count = [&](const std::string& what) {
            int n = 0;
            for (size_t at = out.find(what); at != std::string::npos; at = out.find(what, at + 1)) {
              ++n;
            }
            return n;
          };
          return count("+slave slave") >= 2 && count("+sentinel sentinel") >= 2;
        },
        absl::Seconds(20)))
        << sentinel->out();
  }
  const std::string url = absl::StrCat("redis+sentinel://", lab_->ip("s1"), ":26379,",
                                       lab_->ip("s2"), ":26379,", lab_->ip("s3"), ":26379/dcdir");
  StartReplica("r1", url);
  StartReplica("r2", url);
  Subprocess* reporter1 = StartReporter("c1", "r1");
  Subprocess* reporter2 = StartReporter("c1", "r2");
  absl::SleepFor(absl::Milliseconds(500));
  const std::string out = dir_ + "/answers";
  Subprocess* load = StartLoad("c1", {"r1", "r2"}, out);
  Subprocess* writer = lab_->Spawn(
      "c1", {DCDIR_NETFAULT_CLIENT, "tenants", Target("r1"), Target("r2"), token_file_});
  absl::SleepFor(absl::Seconds(2));

  ASSERT_TRUE(lab_->Isolate({"redis1", "r1"}, {"redis2", "redis3", "s1", "s2", "s3", "r2"}).ok());
  const int64_t cut = NowMs();  // the rules are in force from here on
  absl::SleepFor(absl::Seconds(8));
  const int64_t heal = NowMs();
  ASSERT_TRUE(lab_->Heal().ok());
  absl::SleepFor(absl::Seconds(5));
  for (Subprocess* p : {writer, load, reporter1, reporter2}) NetLab::Stop(p);

  std::vector<Answer> answers = ReadAnswers(out);
  ASSERT_GT(answers.size(), 400u);
  EXPECT_EQ(CheckAnswers(answers), std::vector<std::string>{});
  const Figures all = Count(answers);
  EXPECT_EQ(all.failed, 0) << "GetDirectory must not fail while the store is split";

  // r1 (the minority side): stale within 1 s of the cut, fresh again after the heal.
  std::optional<int64_t> first_stale, last_stale_after_heal;
  std::map<std::string, std::string> last_r1, last_r2;
  for (const Answer& a : answers) {
    if (a.replica == "r2") {
      last_r2[a.country] = a.dcs;
      continue;
    }
    last_r1[a.country] = a.dcs;
    if (a.ms >= cut && a.ms < heal && a.stale && !first_stale) {
      first_stale = a.ms + a.latency_us / 1000;
    }
    if (a.ms >= heal && a.stale) last_stale_after_heal = a.ms + a.latency_us / 1000;
  }
  ASSERT_TRUE(first_stale.has_value()) << "r1 never answered stale on the minority side";
  const int64_t to_stale = *first_stale - cut;
  const int64_t to_fresh = last_stale_after_heal.value_or(heal) - heal;
  EXPECT_LE(to_stale, 1000) << "r1 stale within 1 s of losing the Sentinel majority";
  EXPECT_EQ(last_r1, last_r2) << "after the heal both replicas give the same answers";

  // Failover: the first report r2 had accepted after the cut. Reports lost on the minority side
  // come back: the first report accepted through r1 after the heal.
  std::optional<int64_t> failover, r1_report_back;
  int r1_reports_ok_while_cut = 0;
  for (const ReportResult& r : ReadReports(reporter2->out())) {
    if (r.ms >= cut + 500 && r.code == kGrpcOk && !failover) failover = r.ms;
  }
  for (const ReportResult& r : ReadReports(reporter1->out())) {
    if (r.ms >= cut + 1000 && r.ms < heal && r.code == kGrpcOk) ++r1_reports_ok_while_cut;
    if (r.ms >= heal && r.code == kGrpcOk && !r1_report_back) r1_report_back = r.ms;
  }
  ASSERT_TRUE(failover.has_value()) << "r2 never accepted a report after the cut";
  ASSERT_LT(*failover, heal) << "Sentinel did not fail over during the partition";
  ASSERT_TRUE(r1_report_back.has_value()) << "r1 never accepted a report after the heal";
  // The agent's next report after r1 is back reaches the store: within one report interval
  // (300 ms) of r1's first fresh answer, plus 100 ms for the round of 9 reports it is part of.
  const int64_t to_report = *r1_report_back - heal;
  EXPECT_LE(to_report, to_fresh + 400) << "reports through r1 come back with r1";
  EXPECT_EQ(r1_reports_ok_while_cut, 0) << "r1 accepted reports on the minority side";

  // Tenant policies: every acknowledged write (OK) is readable from both replicas after the
  // heal; refused writes answer UNAVAILABLE, and one refused as "not applied"
  // (STORE_UNAVAILABLE) is not there.
  const std::vector<TenantWrite> writes = ReadTenantWrites(writer->out());
  std::set<std::string> acknowledged, not_applied;
  std::map<std::string, int> by_outcome;  // "<replica> <code> <reason>" -> calls
  int acknowledged_r1_cut = 0, acknowledged_r2_cut = 0, bad_refusals = 0;
  for (const TenantWrite& w : writes) {
    ++by_outcome[absl::StrCat(w.replica, " ", w.code, " ", w.reason)];
    if (w.code == kGrpcOk) {
      acknowledged.insert(w.tenant);
      if (w.ms >= cut && w.ms < heal) {
        ++(w.replica == "r1" ? acknowledged_r1_cut : acknowledged_r2_cut);
      }
    } else if (w.code == kGrpcUnavailable && w.reason == "STORE_UNAVAILABLE") {
      not_applied.insert(w.tenant);
    } else if (!(w.code == kGrpcUnavailable && w.reason == "STORE_WRITE_UNCONFIRMED")) {
      ++bad_refusals;
    }
  }
  // Within its 1 s deadline (op timeout 200 ms + WAIT 500 ms): never DEADLINE_EXCEEDED.
  EXPECT_EQ(bad_refusals, 0) << "a refused write answers UNAVAILABLE with a store reason";
  auto list = [&](const std::string& replica) {
    Subprocess* p = lab_->Spawn(
        "c1", {DCDIR_NETFAULT_CLIENT, "list", lab_->ip(replica) + ":50051", token_file_});
    std::set<std::string> ids;
    if (p->Wait(absl::Seconds(10)) != std::optional<int>(0)) {
      return std::optional<std::set<std::string>>();
    }
    for (absl::string_view id : absl::StrSplit(p->out(), '\n', absl::SkipEmpty())) {
      ids.insert(std::string(id));
    }
    return std::optional<std::set<std::string>>(ids);
  };
  std::optional<std::set<std::string>> on_r1, on_r2;
  const int64_t listed_from = NowMs();
  const bool lists_agree = WaitFor(
      [&] {
        on_r1 = list("r1");
        on_r2 = list("r2");
        return on_r1 && on_r2 && *on_r1 == *on_r2;
      },
      absl::Seconds(10));
  const std::string lists_agree_after =
      lists_agree ? absl::StrCat(NowMs() - listed_from, " ms") : "never within 10 s";
  ASSERT_TRUE(on_r1.has_value() && on_r2.has_value()) << "ListTenantPolicies failed";
  std::map<std::string, std::string> outcome_of;  // tenant -> "<code> <reason>"
  for (const TenantWrite& w : writes) outcome_of[w.tenant] = absl::StrCat(w.code, " ", w.reason);
  std::vector<std::string> only_r1, only_r2;
  for (const std::string& t : *on_r1) {
    if (!on_r2->count(t)) only_r1.push_back(absl::StrCat(t, " (", outcome_of[t], ")"));
  }
  for (const std::string& t : *on_r2) {
    if (!on_r1->count(t)) only_r2.push_back(absl::StrCat(t, " (", outcome_of[t], ")"));
  }
  EXPECT_EQ(only_r1, std::vector<std::string>{}) << "listed by r1 only, 10 s after the load";
  EXPECT_EQ(only_r2, std::vector<std::string>{}) << "listed by r2 only, 10 s after the load";
  std::vector<std::string> lost, applied_anyway;
  for (const std::string& t : acknowledged) {
    if (!on_r1->count(t) || !on_r2->count(t)) lost.push_back(t);
  }
  for (const std::string& t : not_applied) {
    if (on_r1->count(t) || on_r2->count(t)) applied_anyway.push_back(t);
  }
  EXPECT_EQ(lost, std::vector<std::string>{}) << "acknowledged tenant policies lost";
  EXPECT_EQ(applied_anyway, std::vector<std::string>{})
      << "writes refused with STORE_UNAVAILABLE (\"not applied\") that were applied";
  EXPECT_EQ(acknowledged_r1_cut, 0) << "the minority side acknowledged a tenant write";
  EXPECT_GT(acknowledged_r2_cut, 0) << "the majority side accepted no write after the failover";
  std::string outcomes;
  for (const auto& [what, n] : by_outcome) absl::StrAppend(&outcomes, "; ", what, ": ", n);
  Print("split brain",
        absl::StrCat("sent ", all.sent, ", failed ", all.failed, ", stale ", all.stale,
                     ", time to stale on r1 ", to_stale, " ms, failover (first report on r2) ",
                     *failover - cut, " ms, r1 fresh ", to_fresh,
                     " ms and its first report accepted ", to_report,
                     " ms after the heal (both give the same answers from ",
                     std::max(to_fresh, to_report), " ms), tenant lists agree ", lists_agree_after,
                     " after the load stopped; tenants acknowledged ", acknowledged.size(), " (",
                     acknowledged_r2_cut, " on r2 while split), lost ", lost.size(),
                     ", refused as not applied ", not_applied.size(), ", of them applied ",
                     applied_anyway.size(), outcomes));
}

}  // namespace
}  // namespace dcdir::netfault
