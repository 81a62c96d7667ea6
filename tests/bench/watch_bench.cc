// Watchers (issue 17) and ReportHealth beside them (issue 14 item 3): one in-process server
// (example world, in-memory store), --watchers WatchDirectory streams spread over every mapped
// country (so over every region), --per_connection streams per client connection.
//
//   dcdir_watch_bench [--watchers=10000] [--reports=200] [--rate=50] [--per_connection=500]
//                     [--target=127.0.0.1:PORT --server_pid=PID [--token_file=F]]
//                     [--hold_file=F]
//
// With --target the streams and reports go to a running dcdir-server instead (example world,
// started by the caller; its bearer token in --token_file if it wants one), and --server_pid's
// RSS is read from /proc: the server's own memory per watch.
// With --hold_file, after the last round the streams stay open: F is written ("open N") and the
// bench waits until someone deletes F, then closes them (scripts/bench/costcurve.sh measures
// GetDirectory meanwhile).
//
// Rounds, at most --rate per second: one ReportHealth RPC changes one DC's congestion (0.10 <->
// 0.20, below the congested threshold, so no answer changes its picks: exactly the watchers whose
// last message lists that DC get a new one). Measured per round: the RPC's own latency, and the
// time from just before the RPC to the last of those watchers' messages. Run first with no
// watcher open, then with all of them, in one process: the ratio of ReportHealth p99 is what the
// watchers cost the report. Also: this process's RSS before and after opening the streams
// (server and client sides together). Not a test: no thresholds (docs/BENCHMARKS.md).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/client_callback.h"
#include "tests/bench/bench_support.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

struct Flags {
  int watchers = 10000;
  int reports = 200;
  int rate = 50;
  int per_connection = 500;
  std::string target;  // empty: an in-process server
  int server_pid = 0;
  std::string token_file;
  std::string hold_file;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  bench::ParseFlags(argc, argv,
                    {{"--target=", &f.target},
                     {"--server_pid=", &f.server_pid},
                     {"--watchers=", &f.watchers},
                     {"--reports=", &f.reports},
                     {"--rate=", &f.rate},
                     {"--per_connection=", &f.per_connection},
                     {"--token_file=", &f.token_file},
                     {"--hold_file=", &f.hold_file}},
                    "usage: %s [--watchers=N] [--reports=N] [--rate=R] [--per_connection=N] "
                    "[--target=H:P --server_pid=PID [--token_file=F]] [--hold_file=F]\n");
  return f;
}

[[noreturn]] void Die(const std::string& what) { bench::Die("watch_bench", what); }

using bench::RssMiB;

void PrintDistribution(const std::string& name, std::vector<absl::Duration> v) {
  bench::PrintDistribution(name, std::move(v), /*width=*/52);
}

// What every watcher reports to: messages of the current round and when the last came.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  int64_t round_messages = 0;
  absl::Time last_message;
  int64_t first_messages = 0;
  int64_t ended = 0;
};

class WatchReader final : public grpc::ClientReadReactor<v1::Directory> {
 public:
  WatchReader(v1::DirectoryService::Stub* stub, const std::string& country, int id,
              Tally* tally, const std::vector<std::string>* dc_ids)
      : tally_(tally), dc_ids_(dc_ids) {
    request_.set_client_country(country);
    request_.set_client_id(absl::StrCat("w", id));
    stub->async()->WatchDirectory(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  // DC index bit set of the last message (primaries and secondaries).
  uint64_t mask() const { return mask_.load(std::memory_order_acquire); }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    uint64_t mask = 0;
    for (const auto* list : {&message_.primaries(), &message_.secondaries()}) {
      for (const auto& dc : *list) {
        auto it = std::find(dc_ids_->begin(), dc_ids_->end(), dc.id());
        if (it != dc_ids_->end()) mask |= uint64_t{1} << (it - dc_ids_->begin());
      }
    }
    mask_.store(mask, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(tally_->mu);
      if (first_) {
        first_ = false;
        ++tally_->first_messages;
      } else {
        ++tally_->round_messages;
        tally_->last_message = absl::Now();
      }
    }
    tally_->cv.notify_all();
    StartRead(&message_);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::mutex> lock(tally_->mu);
    ++tally_->ended;
    tally_->cv.notify_all();
  }

 private:
  Tally* const tally_;
  const std::vector<std::string>* const dc_ids_;
  grpc::ClientContext context_;
  v1::GetDirectoryRequest request_;
  v1::Directory message_;
  std::atomic<uint64_t> mask_{0};
  bool first_ = true;
};

int Main(int argc, char** argv) {
  const Flags flags = Parse(argc, argv);
  std::optional<testing::TestServer> in_process;
  std::string target = flags.target;
  if (target.empty()) {
    in_process.emplace(testing::TestServerOptions{.auth_token = ""});
    target = absl::StrCat("127.0.0.1:", in_process->server().port());
  }
  auto report_channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto reporting = v1::ReportingService::NewStub(report_channel);
  std::string bearer;
  if (!flags.token_file.empty()) {
    std::ifstream in(flags.token_file);
    std::getline(in, bearer);
    bearer = absl::StrCat("Bearer ", bearer);
  }
  const auto topology = testing::ExampleTopology();
  std::vector<std::string> dc_ids, countries;
  for (const auto& dc : topology->world().datacenters) dc_ids.push_back(dc.id);
  for (const auto& [country, region] : topology->world().countries) countries.push_back(country);
  if (dc_ids.size() > 64) Die("more than 64 DCs");
  std::printf("watch_bench: %d watchers over %zu countries, %d per connection, %d reports at "
              "<= %d/s (example world, %zu DCs)\n",
              flags.watchers, countries.size(), flags.per_connection, flags.reports, flags.rate,
              dc_ids.size());

  Tally tally;
  std::vector<std::unique_ptr<WatchReader>> readers;
  auto report = [&](int k) {
    v1::HealthReport r;
    r.set_datacenter_id(dc_ids[static_cast<size_t>(k) % dc_ids.size()]);
    r.set_status(v1::HEALTH_STATUS_HEALTHY);
    r.set_congestion((k / static_cast<int>(dc_ids.size())) % 2 == 0 ? 0.2 : 0.1);
    v1::ReportHealthResponse response;
    grpc::ClientContext context;
    if (!bearer.empty()) context.AddMetadata("authorization", bearer);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return reporting->ReportHealth(&context, r, &response);
  };
  for (size_t i = 0; i < dc_ids.size(); ++i) {  // every DC HEALTHY at congestion 0.1
    v1::HealthReport r;
    r.set_datacenter_id(dc_ids[i]);
    r.set_status(v1::HEALTH_STATUS_HEALTHY);
    r.set_congestion(0.1);
    r.mutable_ttl()->set_seconds(3600);
    v1::ReportHealthResponse response;
    grpc::ClientContext context;
    if (!bearer.empty()) context.AddMetadata("authorization", bearer);
    if (!reporting->ReportHealth(&context, r, &response).ok()) Die("initial report failed");
  }
  int k = 0;  // report counter across phases: each DC's congestion alternates
  auto run_phase = [&](const std::string& label) {
    std::vector<absl::Duration> rpc, to_last;
    int64_t messages = 0;  // watch messages the rounds made the server send
    const absl::Duration cpu_before = bench::CpuTime(flags.server_pid);
    const absl::Time phase_start = absl::Now();
    const absl::Duration period = absl::Seconds(1) / flags.rate;
    for (int i = 0; i < flags.reports; ++i, ++k) {
      const absl::Time round_start = absl::Now();
      const size_t dc = static_cast<size_t>(k) % dc_ids.size();
      int64_t expected = 0;
      for (const auto& w : readers) expected += (w->mask() >> dc) & 1;
      {
        std::lock_guard<std::mutex> lock(tally.mu);
        tally.round_messages = 0;
      }
      const absl::Time start = absl::Now();
      if (!report(k).ok()) Die("ReportHealth failed");
      rpc.push_back(absl::Now() - start);
      if (expected > 0) {
        std::unique_lock<std::mutex> lock(tally.mu);
        if (!tally.cv.wait_for(lock, std::chrono::seconds(30),
                               [&] { return tally.round_messages >= expected; })) {
          Die(absl::StrCat("round ", i, ": ", tally.round_messages, " of ", expected,
                           " watchers got the change"));
        }
        to_last.push_back(tally.last_message - start);
        messages += expected;
      }
      const absl::Duration left = period - (absl::Now() - round_start);
      if (left > absl::ZeroDuration()) absl::SleepFor(left);
    }
    PrintDistribution(absl::StrCat("ReportHealth RPC, ", label), rpc);
    PrintDistribution(absl::StrCat("ReportHealth -> last watcher's message, ", label), to_last);
    const absl::Duration cpu_after = bench::CpuTime(flags.server_pid);
    if (messages > 0 && cpu_before >= absl::ZeroDuration() && cpu_after >= absl::ZeroDuration()) {
      const absl::Duration cpu = cpu_after - cpu_before;
      const double seconds = absl::ToDoubleSeconds(absl::Now() - phase_start);
      std::printf("%s: %lld watch messages in %.2f s (%.0f rounds/s, %.0f messages/s); %s CPU "
                  "%.1f µs per message\n",
                  label.c_str(), static_cast<long long>(messages), seconds,
                  flags.reports / seconds, static_cast<double>(messages) / seconds,
                  flags.server_pid > 0 ? "server"
                  : in_process         ? "this process's (server and clients)"
                                       : "this process's (the clients only: no --server_pid)",
                  absl::ToDoubleMicroseconds(cpu) / static_cast<double>(messages));
    }
    std::sort(rpc.begin(), rpc.end());
    return rpc[static_cast<size_t>(0.99 * static_cast<double>(rpc.size() - 1) + 0.5)];
  };

  const absl::Duration p99_none = run_phase("0 watchers");

  const double rss_before = RssMiB();
  const double server_rss_before = flags.server_pid > 0 ? RssMiB(flags.server_pid) : 0;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::DirectoryService::Stub>> stubs;
  const absl::Time open_start = absl::Now();
  for (int i = 0; i < flags.watchers; ++i) {
    if (i % flags.per_connection == 0) {
      grpc::ChannelArguments args;
      args.SetInt("dcdir.bench.connection", i / flags.per_connection);  // its own connection
      channels.push_back(grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(),
          args));
      stubs.push_back(v1::DirectoryService::NewStub(channels.back()));
    }
    readers.push_back(std::make_unique<WatchReader>(
        stubs.back().get(), countries[static_cast<size_t>(i) % countries.size()], i, &tally,
        &dc_ids));
  }
  {
    std::unique_lock<std::mutex> lock(tally.mu);
    if (!tally.cv.wait_for(lock, std::chrono::seconds(120),
                           [&] { return tally.first_messages + tally.ended >= flags.watchers; })) {
      Die(absl::StrCat(tally.first_messages, " of ", flags.watchers, " watches opened"));
    }
    if (tally.ended > 0) Die(absl::StrCat(tally.ended, " watches ended early"));
  }
  const double rss_after = RssMiB();
  std::printf("%d watches open in %.2f s; this process's RSS %.1f -> %.1f MiB (+%.1f KiB per "
              "watch%s)\n",
              flags.watchers, absl::ToDoubleSeconds(absl::Now() - open_start), rss_before,
              rss_after, (rss_after - rss_before) * 1024 / flags.watchers,
              in_process ? ", server and client sides together" : ", client side");
  if (flags.server_pid > 0) {
    const double server_rss_after = RssMiB(flags.server_pid);
    std::printf("server (pid %d) RSS %.1f -> %.1f MiB (+%.1f KiB per watch)\n", flags.server_pid,
                server_rss_before, server_rss_after,
                (server_rss_after - server_rss_before) * 1024 / flags.watchers);
  }

  const absl::Duration p99_all = run_phase(absl::StrCat(flags.watchers, " watchers"));
  std::printf("ReportHealth p99 with %d watchers / with 0: %.3f / %.3f ms = %.2f\n",
              flags.watchers, absl::ToDoubleMilliseconds(p99_all),
              absl::ToDoubleMilliseconds(p99_none), absl::FDivDuration(p99_all, p99_none));

  if (!flags.hold_file.empty()) {
    { std::ofstream(flags.hold_file) << "open " << flags.watchers << "\n"; }
    std::printf("holding %d watches open until %s is deleted\n", flags.watchers,
                flags.hold_file.c_str());
    std::fflush(stdout);
    while (std::filesystem::exists(flags.hold_file)) absl::SleepFor(absl::Milliseconds(50));
    std::lock_guard<std::mutex> lock(tally.mu);
    if (tally.ended > 0) Die(absl::StrCat(tally.ended, " watches ended while held open"));
  }
  for (auto& r : readers) r->Cancel();
  {
    std::unique_lock<std::mutex> lock(tally.mu);
    tally.cv.wait_for(lock, std::chrono::seconds(30),
                      [&] { return tally.ended >= flags.watchers; });
  }
  return 0;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) { return dcdir::Main(argc, argv); }
