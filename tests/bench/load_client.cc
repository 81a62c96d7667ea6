// A callback-API gRPC load generator for dcdir.v1.DirectoryService/GetDirectory.
//
//   dcdir_load_client --target=127.0.0.1:50051 [--channels=4] [--outstanding=32]
//                     [--rate=0] [--seconds=5] [--warmup=1]
//                     [--country=US] [--tenant=acme] [--client_id=bench-client]
//                     [--tenant_pool=N] [--countries=A,B,..]
//   dcdir_load_client --target=H:P --load_tenants=N --regions=a,b,.. --token_file=F
//                     [--outstanding=32]
//       no GetDirectory: stores N tenant policies through AdminService.SetTenantPolicy
//       (testing::SyntheticTenant, as tenant_bench and core_bench: ids tenant-000000.., home
//       region regions[i % R], every third also allowing regions[(i+1) % R]), --outstanding
//       calls in flight; prints loaded, seconds, rate and errors; exits 0 only if every call
//       succeeded.
//   dcdir_load_client --target=H:P --dump_response=FILE ...   (one call, writes the answer bytes)
//   dcdir_load_client --dump_request=FILE [--country=US] [--tenant=acme] [--client_id=..]
//       no server: writes the GetDirectoryRequest these flags make, gRPC-framed (one byte 0, the
//       4-byte big-endian length, the serialized message), as h2load -d sends it; exits 0.
//   dcdir_load_client --probe_wakeup=SECONDS   (no gRPC: how late a sleeping thread wakes up here)
//   dcdir_load_client --target=H:P --wait_serving=10 [--since_ns=N]
//       polls grpc.health.v1.Health/Check ("" service) every ms until SERVING; prints
//       serving_after_ms, counted from --since_ns (CLOCK_REALTIME ns, e.g. `date +%s%N` just
//       before the server was launched) or from this process's start, and serving_at_ns (the
//       CLOCK_REALTIME when SERVING was seen). --ready_file=F: create F once the first poll has
//       been made (this process is loaded and its channel exists), so a script can launch the
//       server only then and not count this process's own start-up (~60 ms here).
//
// --tenant_pool=N: every call names a different stored tenant, tenant-000000..tenant-(N-1) in a
// shuffled order (all N requests are built before the load, so the client's cost per call is the
// same as with one --tenant): the server looks up tenants drawn from all N, not one hot entry.
// --countries=A,B,..: the client countries, one per region in --load_tenants' --regions order:
// with --tenant_pool, tenant i's calls come from countries[i % n] (a country of its home region,
// so every call gets a full answer rather than a policy refusal); without, the calls cycle
// through them.
//
// --rate=0: closed loop, `--outstanding` calls always in flight (spread over `--channels`
// channels, each its own HTTP/2 connection): the maximum rate.
// --rate=R: open loop, calls start on a fixed schedule of R per second; the latency of a call is
// measured from its *scheduled* start, so a server that falls behind shows it (no coordinated
// omission). At most `--outstanding` calls are in flight; a schedule slot waits for a free one.
// Prints one line of key=value: achieved rate, p50/p90/p99/p99.9/max latency in µs, ok count and
// errors by gRPC status code. Calls during `--warmup` seconds are not counted.
// In open loop it also prints the load generator's own pacing lag (how late each call was handed
// to gRPC after its scheduled start: lag_p50_us/lag_p99_us/lag_max_us) and the latency counted
// from that hand-over (svc_p50_us/svc_p99_us): if lag_p99 is large, the tail is the client's own
// scheduling, not the server's.
//
// --flip_rate=R --flip_dcs=a,b,.. --token_file=F: meanwhile, a separate channel sends R
// ReportHealth calls per second (bearer token from F), cycling over the listed DCs and flipping
// each between HEALTHY and DOWN, so the server rebuilds its snapshot R times a second during the
// load (the calls that would not change anything are not sent: every call is a change). Adds
// flips_ok / flips_err to the line. Keep R / (number of DCs) under the server's per-DC ReportHealth
// limit (--health_reports_per_second_per_dc, 20 by default).

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"
#include "tests/testing/synthetic_tenants.h"

namespace dcdir {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string target;
  int channels = 4;
  int outstanding = 32;
  double rate = 0;
  double seconds = 5;
  double warmup = 1;
  std::string country = "US";
  std::string tenant = "acme";
  std::string client_id = "bench-client";
  std::string dump_response;
  std::string dump_request;
  double wait_serving = 0;
  int64_t since_ns = 0;
  std::string ready_file;
  double probe_wakeup = 0;
  double flip_rate = 0;
  std::vector<std::string> flip_dcs;
  std::string token_file;
  int tenant_pool = 0;
  int load_tenants = 0;
  std::vector<std::string> regions;
  std::vector<std::string> countries;
};

bool Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (!absl::StartsWith(a, "--") || eq == std::string::npos) return false;
    const std::string key = a.substr(2, eq - 2);
    const std::string value = a.substr(eq + 1);
    bool ok = true;
    if (key == "target") f->target = value;
    else if (key == "channels") ok = absl::SimpleAtoi(value, &f->channels) && f->channels > 0;
    else if (key == "outstanding") ok = absl::SimpleAtoi(value, &f->outstanding) && f->outstanding > 0;
    else if (key == "rate") ok = absl::SimpleAtod(value, &f->rate) && f->rate >= 0;
    else if (key == "seconds") ok = absl::SimpleAtod(value, &f->seconds) && f->seconds > 0;
    else if (key == "warmup") ok = absl::SimpleAtod(value, &f->warmup) && f->warmup >= 0;
    else if (key == "country") f->country = value;
    else if (key == "tenant") f->tenant = value;
    else if (key == "client_id") f->client_id = value;
    else if (key == "dump_response") f->dump_response = value;
    else if (key == "dump_request") f->dump_request = value;
    else if (key == "wait_serving") ok = absl::SimpleAtod(value, &f->wait_serving) && f->wait_serving > 0;
    else if (key == "since_ns") ok = absl::SimpleAtoi(value, &f->since_ns);
    else if (key == "ready_file") f->ready_file = value;
    else if (key == "probe_wakeup") ok = absl::SimpleAtod(value, &f->probe_wakeup) && f->probe_wakeup > 0;
    else if (key == "flip_rate") ok = absl::SimpleAtod(value, &f->flip_rate) && f->flip_rate >= 0;
    else if (key == "flip_dcs") f->flip_dcs = absl::StrSplit(value, ',', absl::SkipEmpty());
    else if (key == "token_file") f->token_file = value;
    else if (key == "tenant_pool") ok = absl::SimpleAtoi(value, &f->tenant_pool) && f->tenant_pool > 0;
    else if (key == "load_tenants") ok = absl::SimpleAtoi(value, &f->load_tenants) && f->load_tenants > 0;
    else if (key == "regions") f->regions = absl::StrSplit(value, ',', absl::SkipEmpty());
    else if (key == "countries") f->countries = absl::StrSplit(value, ',', absl::SkipEmpty());
    else ok = false;
    if (!ok) return false;
  }
  if (f->flip_rate > 0 && (f->flip_dcs.empty() || f->token_file.empty())) return false;
  if (f->load_tenants > 0 && (f->regions.empty() || f->token_file.empty())) return false;
  return !f->target.empty() || f->probe_wakeup > 0 || !f->dump_request.empty();
}

// The one request every mode sends: --country, --tenant, --client_id.
v1::GetDirectoryRequest MakeRequest(const Flags& flags) {
  v1::GetDirectoryRequest request;
  request.set_client_country(flags.country);
  request.set_tenant_id(flags.tenant);
  request.set_client_id(flags.client_id);
  return request;
}

// The id of stored tenant i (--tenant_pool, --load_tenants; tenant_bench's ids).
using testing::SyntheticTenantId;

// The requests a load cycles through: MakeRequest's one (one per --countries entry), or with
// --tenant_pool one per tenant in a fixed shuffled order (seed 1).
std::vector<v1::GetDirectoryRequest> MakeRequests(const Flags& flags) {
  std::vector<v1::GetDirectoryRequest> requests;
  const size_t n = flags.countries.size();
  if (flags.tenant_pool <= 0) {
    requests.push_back(MakeRequest(flags));
    for (size_t k = 1; k < n; ++k) requests.push_back(requests.front());
    for (size_t k = 0; k < n; ++k) requests[k].set_client_country(flags.countries[k]);
    return requests;
  }
  std::vector<int> order(static_cast<size_t>(flags.tenant_pool));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), std::mt19937(1));
  for (int i : order) {
    requests.push_back(MakeRequest(flags));
    requests.back().set_tenant_id(SyntheticTenantId(i));
    if (n > 0) requests.back().set_client_country(flags.countries[static_cast<size_t>(i) % n]);
  }
  return requests;
}

std::string ReadToken(const std::string& file) {
  std::ifstream in(file);
  std::string token;
  std::getline(in, token);
  return token;
}

class Load {
 public:
  Load(const Flags& flags) : flags_(flags), requests_(MakeRequests(flags)) {
    for (int i = 0; i < flags.channels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("dcdir.bench.channel", i);  // a distinct arg: one connection per channel
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      stubs_.push_back(v1::DirectoryService::NewStub(
          grpc::CreateCustomChannel(flags.target, grpc::InsecureChannelCredentials(), args)));
    }
  }

  // Runs the whole load; returns 0 if every counted call succeeded.
  int Run() {
    const Clock::time_point start = Clock::now();
    measure_from_ = start + ToDuration(flags_.warmup);
    stop_at_ = measure_from_ + ToDuration(flags_.seconds);
    std::thread flipper;
    if (flags_.flip_rate > 0) flipper = std::thread([this, start] { Flip(start); });
    if (flags_.rate <= 0) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_flight_ = flags_.outstanding;
      }
      for (int i = 0; i < flags_.outstanding; ++i) Issue(i, Clock::now());
    } else {
      const double interval_s = 1.0 / flags_.rate;
      Clock::time_point next = start;
      for (uint64_t i = 0; next < stop_at_;
           ++i, next = start + ToDuration(interval_s * static_cast<double>(i))) {
        std::this_thread::sleep_until(next);
        {
          std::unique_lock<std::mutex> lock(mu_);
          slot_free_.wait(lock, [&] { return in_flight_ < flags_.outstanding; });
          ++in_flight_;
        }
        Issue(static_cast<int>(i), next);
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      all_done_.wait(lock, [&] { return in_flight_ == 0 && (flags_.rate > 0 || closed_done_); });
    }
    if (flipper.joinable()) flipper.join();
    return Report();
  }

  // ReportHealth flips until stop_at_ (see --flip_rate).
  void Flip(Clock::time_point start) {
    const std::string token = ReadToken(flags_.token_file);
    grpc::ChannelArguments args;
    args.SetInt("dcdir.bench.flipper", 1);  // its own connection
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::ReportingService::NewStub(
        grpc::CreateCustomChannel(flags_.target, grpc::InsecureChannelCredentials(), args));
    std::vector<bool> down(flags_.flip_dcs.size(), false);
    const double interval_s = 1.0 / flags_.flip_rate;
    for (uint64_t i = 0;; ++i) {
      const Clock::time_point next = start + ToDuration(interval_s * static_cast<double>(i));
      if (next >= stop_at_) break;
      std::this_thread::sleep_until(next);
      const size_t k = i % flags_.flip_dcs.size();
      down[k] = !down[k];
      v1::HealthReport report;
      report.set_datacenter_id(flags_.flip_dcs[k]);
      report.set_status(down[k] ? v1::HEALTH_STATUS_DOWN : v1::HEALTH_STATUS_HEALTHY);
      report.set_congestion(0.1);
      grpc::ClientContext context;
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      v1::ReportHealthResponse response;
      const grpc::Status status = stub->ReportHealth(&context, report, &response);
      std::lock_guard<std::mutex> lock(mu_);
      if (status.ok()) {
        ++flips_ok_;
      } else {
        ++flips_err_;
        if (flips_err_ == 1) {
          std::fprintf(stderr, "ReportHealth %s: %d %s\n", flags_.flip_dcs[k].c_str(),
                       status.error_code(), status.error_message().c_str());
        }
      }
    }
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::Directory response;
    Clock::time_point start;   // scheduled start (open loop) or issue time (closed loop)
    Clock::time_point issued;  // when it was handed to gRPC
    int index;
  };

  static Clock::duration ToDuration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // The caller has counted the call in `in_flight_`.
  void Issue(int index, Clock::time_point scheduled) {
    auto* call = new Call;
    call->start = scheduled;
    call->issued = Clock::now();
    call->index = index;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    const size_t n = next_request_.fetch_add(1, std::memory_order_relaxed);
    stubs_[index % stubs_.size()]->async()->GetDirectory(
        &call->context, &requests_[n % requests_.size()], &call->response,
        [this, call](grpc::Status status) { Done(call, status); });
  }

  void Done(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const int index = call->index;
    const bool counted = call->start >= measure_from_ && call->start < stop_at_;
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->start).count();
    const int64_t svc_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->issued).count();
    const int64_t lag_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(call->issued - call->start).count();
    delete call;
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (counted) {
        if (status.ok()) {
          latencies_ns_.push_back(ns);
          service_ns_.push_back(svc_ns);
          lag_ns_.push_back(lag_ns);
        } else {
          ++errors_[status.error_code()];
        }
      }
      if (flags_.rate <= 0 && now < stop_at_) {
        again = true;  // closed loop: this slot goes on
      } else {
        --in_flight_;
        if (flags_.rate <= 0 && now >= stop_at_) closed_done_ = true;
        slot_free_.notify_one();
        if (in_flight_ == 0) all_done_.notify_all();
      }
    }
    if (again) Issue(index, now);  // still counted in in_flight_
  }

  static double Percentile(const std::vector<int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
    i = std::min(i, sorted.size() - 1);
    return static_cast<double>(sorted[i]) / 1000.0;
  }

  int Report() {
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    std::sort(service_ns_.begin(), service_ns_.end());
    std::sort(lag_ns_.begin(), lag_ns_.end());
    auto pct = [&](double p) { return Percentile(latencies_ns_, p); };
    uint64_t errors = 0;
    std::string by_code;
    for (const auto& [code, n] : errors_) {
      errors += n;
      absl::StrAppend(&by_code, by_code.empty() ? "" : ",", code, ":", n);
    }
    const double rate = static_cast<double>(latencies_ns_.size() + errors) / flags_.seconds;
    std::printf(
        "mode=%s target_rate=%.0f rate=%.0f ok=%zu errors=%llu errors_by_code=%s "
        "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
        "lag_p50_us=%.1f lag_p99_us=%.1f lag_max_us=%.1f svc_p50_us=%.1f svc_p99_us=%.1f "
        "flips_ok=%llu flips_err=%llu\n",
        flags_.rate > 0 ? "open" : "closed", flags_.rate, rate, latencies_ns_.size(),
        static_cast<unsigned long long>(errors), by_code.empty() ? "-" : by_code.c_str(), pct(50),
        pct(90), pct(99), pct(99.9), latencies_ns_.empty() ? 0.0 : latencies_ns_.back() / 1000.0,
        Percentile(lag_ns_, 50), Percentile(lag_ns_, 99), Percentile(lag_ns_, 100),
        Percentile(service_ns_, 50), Percentile(service_ns_, 99),
        static_cast<unsigned long long>(flips_ok_), static_cast<unsigned long long>(flips_err_));
    return errors == 0 && flips_err_ == 0 && !latencies_ns_.empty() ? 0 : 1;
  }

  const Flags flags_;
  const std::vector<v1::GetDirectoryRequest> requests_;
  std::atomic<size_t> next_request_{0};
  std::vector<std::unique_ptr<v1::DirectoryService::Stub>> stubs_;
  Clock::time_point measure_from_;
  Clock::time_point stop_at_;

  std::mutex mu_;
  std::condition_variable slot_free_;
  std::condition_variable all_done_;
  int in_flight_ = 0;
  bool closed_done_ = false;
  std::vector<int64_t> latencies_ns_;
  std::vector<int64_t> service_ns_;
  std::vector<int64_t> lag_ns_;
  std::map<int, uint64_t> errors_;
  uint64_t flips_ok_ = 0;
  uint64_t flips_err_ = 0;
};

// --load_tenants: N SetTenantPolicy calls, --outstanding in flight on one channel.
int LoadTenants(const Flags& flags) {
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials()));
  const std::string bearer = absl::StrCat("Bearer ", ReadToken(flags.token_file));
  std::mutex mu;
  std::condition_variable cv;
  int next = 0, in_flight = 0, errors = 0;
  struct Call {
    grpc::ClientContext context;
    v1::SetTenantPolicyRequest request;
    v1::TenantPolicy response;
  };
  // Starts call i; the caller counted it in `in_flight` (the stub is never called with mu held:
  // a callback may run inline).
  std::function<void(int)> issue = [&](int i) {
    auto* call = new Call;
    call->context.AddMetadata("authorization", bearer);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    testing::TenantShape t = testing::SyntheticTenant(i, flags.regions);
    v1::TenantPolicy& p = *call->request.mutable_policy();
    p.set_tenant_id(std::move(t.id));
    p.set_home_region(std::move(t.home_region));
    p.mutable_allowed_regions()->Add(t.allowed_regions.begin(), t.allowed_regions.end());
    stub->async()->SetTenantPolicy(
        &call->context, &call->request, &call->response, [&, call](grpc::Status status) {
          int again = -1;
          {
            std::lock_guard<std::mutex> lock(mu);
            if (!status.ok() && errors++ == 0) {
              std::fprintf(stderr, "SetTenantPolicy %s: %d %s\n",
                           call->request.policy().tenant_id().c_str(), status.error_code(),
                           status.error_message().c_str());
            }
            // After an error no more calls start (a dead server would otherwise make every
            // callback start the next one inline, ever deeper).
            if (next < flags.load_tenants && errors == 0) {
              again = next++;  // this slot goes on
            } else {
              --in_flight;
              cv.notify_all();
            }
          }
          delete call;
          if (again >= 0) issue(again);
        });
  };
  const Clock::time_point start = Clock::now();
  std::vector<int> first;
  {
    std::lock_guard<std::mutex> lock(mu);
    while (next < flags.load_tenants && in_flight < flags.outstanding) {
      first.push_back(next++);
      ++in_flight;
    }
  }
  for (int i : first) issue(i);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("mode=load_tenants loaded=%d seconds=%.2f rate=%.0f errors=%d not_sent=%d\n",
              next - errors, seconds, next / seconds, errors, flags.load_tenants - next);
  return errors == 0 ? 0 : 1;
}

int DumpResponse(const Flags& flags) {
  auto stub = v1::DirectoryService::NewStub(
      grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials()));
  const v1::GetDirectoryRequest request = MakeRequest(flags);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::Directory response;
  const grpc::Status status = stub->GetDirectory(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "GetDirectory: %d %s\n", status.error_code(),
                 status.error_message().c_str());
    return 1;
  }
  std::ofstream out(flags.dump_response, std::ios::binary | std::ios::trunc);
  out << response.SerializeAsString();
  return out.good() ? 0 : 1;
}

// The request as a gRPC length-prefixed message (gRPC over HTTP/2 spec: compressed flag 0, then
// the length as 4 bytes big-endian, then the bytes): the body h2load -d posts. 0 if written.
int DumpRequest(const Flags& flags) {
  const std::string message = MakeRequest(flags).SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(message.size());
  const char prefix[5] = {0, static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  std::ofstream out(flags.dump_request, std::ios::binary | std::ios::trunc);
  out.write(prefix, sizeof(prefix));
  out << message;
  out.close();
  if (!out.good()) {
    std::fprintf(stderr, "cannot write %s\n", flags.dump_request.c_str());
    return 1;
  }
  return 0;
}

int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// grpc.health.v1.Health/Check with an empty HealthCheckRequest; SERVING is the bytes 08 01.
int WaitServing(const Flags& flags) {
  const int64_t since = flags.since_ns > 0 ? flags.since_ns : RealtimeNs();
  const Clock::time_point give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(flags.wait_serving));
  // Reconnect at once: gRPC's default backoff (1 s after a refused connect) would be measured
  // instead of the server.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel(flags.target, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  int attempts = 0;
  while (Clock::now() < give_up) {
    ++attempts;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    grpc::Slice empty("", 0);
    grpc::ByteBuffer request(&empty, 1);  // an empty HealthCheckRequest (a valid, 0-byte buffer)
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     status = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done; });
    }
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      std::string bytes;
      if (response.Dump(&slices).ok()) {
        for (const auto& slice : slices) {
          bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
      if (bytes == std::string("\x08\x01", 2)) {
        const int64_t at = RealtimeNs();
        std::printf("serving_after_ms=%.1f serving_at_ns=%lld attempts=%d\n",
                    static_cast<double>(at - since) / 1e6, static_cast<long long>(at), attempts);
        return 0;
      }
    }
    if (attempts == 1 && !flags.ready_file.empty()) {
      std::ofstream(flags.ready_file) << "polling\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::fprintf(stderr, "not SERVING after %.1f s\n", flags.wait_serving);
  return 1;
}

// The floor of any latency figure on this machine: a thread sleeps until a slot every 200 µs (as
// the open-loop pacer does) and records how late it woke up. No gRPC, no server.
int ProbeWakeup(const Flags& flags) {
  std::vector<int64_t> late_ns;
  const Clock::time_point start = Clock::now();
  const Clock::time_point stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(flags.probe_wakeup));
  for (int64_t i = 1;; ++i) {
    const Clock::time_point slot = start + std::chrono::microseconds(200 * i);
    if (slot >= stop) break;
    std::this_thread::sleep_until(slot);
    late_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - slot).count());
  }
  std::sort(late_ns.begin(), late_ns.end());
  auto pct = [&](double p) {
    size_t i = std::min(late_ns.size() - 1,
                        static_cast<size_t>(p / 100.0 * static_cast<double>(late_ns.size())));
    return static_cast<double>(late_ns[i]) / 1000.0;
  };
  std::printf("mode=wakeup samples=%zu late_p50_us=%.1f late_p99_us=%.1f late_p999_us=%.1f "
              "late_max_us=%.1f\n",
              late_ns.size(), pct(50), pct(99), pct(99.9), late_ns.back() / 1000.0);
  return 0;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) {
  dcdir::Flags flags;
  if (!dcdir::Parse(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: %s --target=H:P [--channels=4] [--outstanding=32] [--rate=0 (closed "
                 "loop)] [--seconds=5] [--warmup=1] [--country=US] [--tenant=acme] "
                 "[--client_id=bench-client] [--tenant_pool=N] [--countries=A,B] [--dump_response=FILE] "
                 "[--flip_rate=R --flip_dcs=a,b --token_file=F] | --load_tenants=N "
                 "--regions=a,b --token_file=F | --probe_wakeup=SECONDS | --wait_serving=S | "
                 "--dump_request=FILE\n",
                 argv[0]);
    return 2;
  }
  if (!flags.dump_request.empty()) return dcdir::DumpRequest(flags);
  if (!flags.dump_response.empty()) return dcdir::DumpResponse(flags);
  if (flags.load_tenants > 0) return dcdir::LoadTenants(flags);
  if (flags.wait_serving > 0) return dcdir::WaitServing(flags);
  // The open-loop pacer sleeps until each call's slot: the default 50 µs timer slack would make
  // every call late by up to that much (threads created afterwards inherit the value).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (flags.probe_wakeup > 0) return dcdir::ProbeWakeup(flags);
  dcdir::Load load(flags);
  return load.Run();
}
