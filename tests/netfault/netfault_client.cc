// The client side of the network-fault suite (tests/netfault/netfault_test.cc), started by the
// test inside a client host's network namespace (`ip netns exec NS netfault_client ...`):
//
//   netfault_client load TARGET... --countries=DE,US --out=FILE
//     One thread per TARGET (NAME=IP:PORT) sends GetDirectory back to back (1 s deadline,
//     5 ms pause between calls; a new channel 50 ms after an UNAVAILABLE or a DEADLINE_EXCEEDED),
//     cycling through the countries, until SIGTERM. Every answer is one line of FILE, flushed at
//     once (and each failure's message on stderr):
//       <unix ms at send> <NAME> <country> <grpc code> <stale 0|1> <latency us> <dc,dc,...|->
//
//   netfault_client report IP:PORT TOKEN_FILE --healthy=a,b --down=c [--ttl_seconds=5]
//     Reports every listed DC (HEALTHY or DOWN, congestion 0.1, TTL --ttl_seconds, 1 s
//     deadline) one after the other, then pauses 300 ms, until SIGTERM; one line per report on
//     stdout: <unix ms at send> <dc> <grpc code> (and the error message on stderr).
//
//   netfault_client health IP:PORT
//     grpc.health.v1.Health/Check (service "", 1 s deadline) every 100 ms until SIGTERM; one
//     line per check on stdout: <unix ms at send> <grpc code> <serving status, -1 on error>
//     (SERVING is 1, NOT_SERVING 2).
//
//   netfault_client tenants NAME=IP:PORT... TOKEN_FILE
//     One thread per target calls SetTenantPolicy every 100 ms (1 s deadline) for a new tenant
//     `w-NAME-<n>` (home region eu, allowed us) until SIGTERM; one line per call on stdout:
//       <unix ms at send> <NAME> <tenant> <grpc code> <reason token from the dcdir-error-reason
//       trailer, - when none>
//
//   netfault_client list IP:PORT TOKEN_FILE
//     Lists every tenant policy (ListTenantPolicies, every page, 2 s deadline each) and prints
//     one tenant id per line; exit 1 (message on stderr) when a page fails.
//
// Exit 0 on SIGTERM, 2 on bad arguments.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

std::string Flag(const std::vector<std::string>& args, const std::string& name) {
  const std::string prefix = "--" + name + "=";
  for (const std::string& a : args) {
    if (absl::StartsWith(a, prefix)) return a.substr(prefix.size());
  }
  return "";
}

std::vector<std::string> Positional(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (!absl::StartsWith(a, "--")) out.push_back(a);
  }
  return out;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a partition heals (gRPC's default backoff grows to 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

int Load(const std::vector<std::string>& args) {
  const std::vector<std::string> targets = Positional(args);
  const std::vector<std::string> countries = absl::StrSplit(Flag(args, "countries"), ',');
  const std::string out_path = Flag(args, "out");
  if (targets.empty() || out_path.empty() || countries.empty() || countries[0].empty()) {
    std::cerr << "load: needs NAME=IP:PORT targets, --countries and --out\n";
    return 2;
  }
  std::ofstream out(out_path, std::ios::app);
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (const std::string& target : targets) {
    std::pair<std::string, std::string> name_address = absl::StrSplit(target, '=');
    threads.emplace_back([&, name = name_address.first, address = name_address.second] {
      auto stub = dcdir::v1::DirectoryService::NewStub(Connect(address));
      size_t i = 0;
      while (!g_stop.load()) {
        const std::string& country = countries[i++ % countries.size()];
        dcdir::v1::GetDirectoryRequest request;
        request.set_client_country(country);
        request.set_client_id("netfault");
        dcdir::v1::Directory reply;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
        const absl::Time sent = absl::Now();
        const grpc::Status status = stub->GetDirectory(&context, request, &reply);
        const int64_t latency_us = absl::ToInt64Microseconds(absl::Now() - sent);
        std::vector<std::string> dcs;
        for (const auto& dc : reply.primaries()) dcs.push_back(dc.id());
        for (const auto& dc : reply.secondaries()) dcs.push_back(dc.id());
        std::ostringstream line;
        line << absl::ToUnixMillis(sent) << ' ' << name << ' ' << country << ' '
             << static_cast<int>(status.error_code()) << ' ' << (reply.stale() ? 1 : 0) << ' '
             << latency_us << ' ' << (dcs.empty() ? "-" : absl::StrJoin(dcs, ",")) << '\n';
        {
          std::lock_guard<std::mutex> lock(out_mu);
          out << line.str() << std::flush;
          if (!status.ok()) std::cerr << line.str() << "  " << status.error_message() << std::endl;
        }
        // A restarted replica: a new channel connects at once (gRPC's reconnect backoff of a
        // channel whose connects were refused is not bounded by the arguments above here). A
        // black-holed connection (a partition) stays open for seconds after the heal while TCP
        // backs off its retransmissions: a new one after a deadline, as a real client would.
        if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
            status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          stub = dcdir::v1::DirectoryService::NewStub(Connect(address));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return 0;
}

int Report(const std::vector<std::string>& args) {
  const std::vector<std::string> positional = Positional(args);
  if (positional.size() != 2) {
    std::cerr << "report: needs IP:PORT TOKEN_FILE\n";
    return 2;
  }
  std::ifstream token_in(positional[1]);
  std::string token((std::istreambuf_iterator<char>(token_in)), std::istreambuf_iterator<char>());
  token = std::string(absl::StripAsciiWhitespace(token));
  std::vector<std::pair<std::string, dcdir::v1::HealthStatus>> reports;
  for (absl::string_view dc : absl::StrSplit(Flag(args, "healthy"), ',', absl::SkipEmpty())) {
    reports.emplace_back(std::string(dc), dcdir::v1::HEALTH_STATUS_HEALTHY);
  }
  for (absl::string_view dc : absl::StrSplit(Flag(args, "down"), ',', absl::SkipEmpty())) {
    reports.emplace_back(std::string(dc), dcdir::v1::HEALTH_STATUS_DOWN);
  }
  int ttl_seconds = 5;
  if (const std::string ttl = Flag(args, "ttl_seconds");
      !ttl.empty() && (!absl::SimpleAtoi(ttl, &ttl_seconds) || ttl_seconds < 1)) {
    std::cerr << "report: --ttl_seconds must be a positive integer\n";
    return 2;
  }
  auto stub = dcdir::v1::ReportingService::NewStub(Connect(positional[0]));
  while (!g_stop.load()) {
    for (const auto& [dc, health] : reports) {
      dcdir::v1::HealthReport report;
      report.set_datacenter_id(dc);
      report.set_status(health);
      report.set_congestion(0.1);
      report.mutable_ttl()->set_seconds(ttl_seconds);
      dcdir::v1::ReportHealthResponse response;
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      const absl::Time sent = absl::Now();
      const grpc::Status status = stub->ReportHealth(&context, report, &response);
      std::cout << absl::ToUnixMillis(sent) << ' ' << dc << ' '
                << static_cast<int>(status.error_code()) << std::endl;
      if (!status.ok()) std::cerr << dc << ": " << status.error_message() << std::endl;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return 0;
}

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(absl::StripAsciiWhitespace(token));
}

int Health(const std::vector<std::string>& args) {
  const std::vector<std::string> positional = Positional(args);
  if (positional.size() != 1) {
    std::cerr << "health: needs IP:PORT\n";
    return 2;
  }
  auto stub = std::make_unique<grpc::GenericStub>(Connect(positional[0]));
  std::string request_bytes;
  grpc::health::v1::HealthCheckRequest().SerializeToString(&request_bytes);
  while (!g_stop.load()) {
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    const absl::Time sent = absl::Now();
    std::promise<grpc::Status> done;
    stub->UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    int serving = -1;
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)response.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices) {
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      grpc::health::v1::HealthCheckResponse parsed;
      if (parsed.ParseFromString(bytes)) serving = static_cast<int>(parsed.status());
    }
    std::cout << absl::ToUnixMillis(sent) << ' ' << static_cast<int>(status.error_code()) << ' '
              << serving << std::endl;
    if (!status.ok()) {
      std::cerr << "health: " << status.error_message() << std::endl;
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        stub = std::make_unique<grpc::GenericStub>(Connect(positional[0]));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

std::string ReasonOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("dcdir-error-reason");
  return it == trailers.end() ? "-" : std::string(it->second.data(), it->second.size());
}

int Tenants(const std::vector<std::string>& args) {
  std::vector<std::string> positional = Positional(args);
  if (positional.size() < 2) {
    std::cerr << "tenants: needs NAME=IP:PORT... TOKEN_FILE\n";
    return 2;
  }
  const std::string token = ReadToken(positional.back());
  positional.pop_back();
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (const std::string& target : positional) {
    std::pair<std::string, std::string> name_address = absl::StrSplit(target, '=');
    threads.emplace_back([&, name = name_address.first, address = name_address.second] {
      auto stub = dcdir::v1::AdminService::NewStub(Connect(address));
      for (int n = 0; !g_stop.load(); ++n) {
        dcdir::v1::SetTenantPolicyRequest request;
        const std::string tenant = "w-" + name + "-" + std::to_string(n);
        request.mutable_policy()->set_tenant_id(tenant);
        request.mutable_policy()->set_home_region("eu");
        request.mutable_policy()->add_allowed_regions("us");
        dcdir::v1::TenantPolicy reply;
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + token);
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
        const absl::Time sent = absl::Now();
        const grpc::Status status = stub->SetTenantPolicy(&context, request, &reply);
        {
          std::lock_guard<std::mutex> lock(out_mu);
          std::cout << absl::ToUnixMillis(sent) << ' ' << name << ' ' << tenant << ' '
                    << static_cast<int>(status.error_code()) << ' '
                    << (status.ok() ? "-" : ReasonOf(context)) << std::endl;
          if (!status.ok()) std::cerr << tenant << ": " << status.error_message() << std::endl;
        }
        if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
            status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          stub = dcdir::v1::AdminService::NewStub(Connect(address));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return 0;
}

int List(const std::vector<std::string>& args) {
  const std::vector<std::string> positional = Positional(args);
  if (positional.size() != 2) {
    std::cerr << "list: needs IP:PORT TOKEN_FILE\n";
    return 2;
  }
  const std::string token = ReadToken(positional[1]);
  auto stub = dcdir::v1::AdminService::NewStub(Connect(positional[0]));
  std::string page_token;
  do {
    dcdir::v1::ListTenantPoliciesRequest request;
    request.set_page_size(1000);
    request.set_page_token(page_token);
    dcdir::v1::ListTenantPoliciesResponse response;
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    const grpc::Status status = stub->ListTenantPolicies(&context, request, &response);
    if (!status.ok()) {
      std::cerr << "list: " << static_cast<int>(status.error_code()) << ' '
                << status.error_message() << std::endl;
      return 1;
    }
    for (const auto& policy : response.tenant_policies()) std::cout << policy.tenant_id() << '\n';
    page_token = response.next_page_token();
  } while (!page_token.empty());
  std::cout << std::flush;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << "usage: netfault_client load|report|health|tenants|list ...\n";
    return 2;
  }
  const std::string mode = args.front();
  args.erase(args.begin());
  if (mode == "load") return Load(args);
  if (mode == "report") return Report(args);
  if (mode == "health") return Health(args);
  if (mode == "tenants") return Tenants(args);
  if (mode == "list") return List(args);
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
