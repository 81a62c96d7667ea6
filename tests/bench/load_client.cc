// A callback-API gRPC load generator for dcdir.v1.DirectoryService/GetDirectory.
//
//   dcdir_load_client --target=127.0.0.1:50051 [--channels=4] [--outstanding=32]
//                     [--rate=0] [--seconds=5] [--warmup=1]
//                     [--country=US] [--tenant=acme] [--client_id=bench-client]
//   dcdir_load_client --target=H:P --dump_response=FILE ...   (one call, writes the answer bytes)
//   dcdir_load_client --target=H:P --wait_serving=10 [--since_ns=N]
//       polls grpc.health.v1.Health/Check ("" service) every ms until SERVING; prints
//       serving_after_ms, counted from --since_ns (CLOCK_REALTIME ns, e.g. `date +%s%N` just
//       before the server was launched) or from this process's start.
//
// --rate=0: closed loop, `--outstanding` calls always in flight (spread over `--channels`
// channels, each its own HTTP/2 connection): the maximum rate.
// --rate=R: open loop, calls start on a fixed schedule of R per second; the latency of a call is
// measured from its *scheduled* start, so a server that falls behind shows it (no coordinated
// omission). At most `--outstanding` calls are in flight; a schedule slot waits for a free one.
// Prints one line of key=value: achieved rate, p50/p90/p99/p99.9/max latency in µs, ok count and
// errors by gRPC status code. Calls during `--warmup` seconds are not counted.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"

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
  double wait_serving = 0;
  int64_t since_ns = 0;
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
    else if (key == "wait_serving") ok = absl::SimpleAtod(value, &f->wait_serving) && f->wait_serving > 0;
    else if (key == "since_ns") ok = absl::SimpleAtoi(value, &f->since_ns);
    else ok = false;
    if (!ok) return false;
  }
  return !f->target.empty();
}

class Load {
 public:
  Load(const Flags& flags) : flags_(flags) {
    request_.set_client_country(flags.country);
    request_.set_tenant_id(flags.tenant);
    request_.set_client_id(flags.client_id);
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
    return Report();
  }

 private:
  struct Call {
    grpc::ClientContext context;
    v1::Directory response;
    Clock::time_point start;
    int index;
  };

  static Clock::duration ToDuration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  // The caller has counted the call in `in_flight_`.
  void Issue(int index, Clock::time_point scheduled) {
    auto* call = new Call;
    call->start = scheduled;
    call->index = index;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    stubs_[index % stubs_.size()]->async()->GetDirectory(
        &call->context, &request_, &call->response,
        [this, call](grpc::Status status) { Done(call, status); });
  }

  void Done(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const int index = call->index;
    const bool counted = call->start >= measure_from_ && call->start < stop_at_;
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->start).count();
    delete call;
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (counted) {
        if (status.ok()) {
          latencies_ns_.push_back(ns);
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

  int Report() {
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    auto pct = [&](double p) -> double {
      if (latencies_ns_.empty()) return 0;
      size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(latencies_ns_.size()));
      i = std::min(i, latencies_ns_.size() - 1);
      return static_cast<double>(latencies_ns_[i]) / 1000.0;
    };
    uint64_t errors = 0;
    std::string by_code;
    for (const auto& [code, n] : errors_) {
      errors += n;
      absl::StrAppend(&by_code, by_code.empty() ? "" : ",", code, ":", n);
    }
    const double rate = static_cast<double>(latencies_ns_.size() + errors) / flags_.seconds;
    std::printf(
        "mode=%s target_rate=%.0f rate=%.0f ok=%zu errors=%llu errors_by_code=%s "
        "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
        flags_.rate > 0 ? "open" : "closed", flags_.rate, rate, latencies_ns_.size(),
        static_cast<unsigned long long>(errors), by_code.empty() ? "-" : by_code.c_str(), pct(50),
        pct(90), pct(99), pct(99.9), latencies_ns_.empty() ? 0.0 : latencies_ns_.back() / 1000.0);
    return errors == 0 && !latencies_ns_.empty() ? 0 : 1;
  }

  const Flags flags_;
  v1::GetDirectoryRequest request_;
  std::vector<std::unique_ptr<v1::DirectoryService::Stub>> stubs_;
  Clock::time_point measure_from_;
  Clock::time_point stop_at_;

  std::mutex mu_;
  std::condition_variable slot_free_;
  std::condition_variable all_done_;
  int in_flight_ = 0;
  bool closed_done_ = false;
  std::vector<int64_t> latencies_ns_;
  std::map<int, uint64_t> errors_;
};

int DumpResponse(const Flags& flags) {
  auto stub = v1::DirectoryService::NewStub(
      grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials()));
  v1::GetDirectoryRequest request;
  request.set_client_country(flags.country);
  request.set_tenant_id(flags.tenant);
  request.set_client_id(flags.client_id);
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
        std::printf("serving_after_ms=%.1f attempts=%d\n",
                    static_cast<double>(RealtimeNs() - since) / 1e6, attempts);
        return 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::fprintf(stderr, "not SERVING after %.1f s\n", flags.wait_serving);
  return 1;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) {
  dcdir::Flags flags;
  if (!dcdir::Parse(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: %s --target=H:P [--channels=4] [--outstanding=32] [--rate=0 (closed "
                 "loop)] [--seconds=5] [--warmup=1] [--country=US] [--tenant=acme] "
                 "[--client_id=bench-client] [--dump_response=FILE]\n",
                 argv[0]);
    return 2;
  }
  if (!flags.dump_response.empty()) return dcdir::DumpResponse(flags);
  if (flags.wait_serving > 0) return dcdir::WaitServing(flags);
  dcdir::Load load(flags);
  return load.Run();
}
