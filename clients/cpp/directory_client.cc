#include "dcdir/client/directory_client.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cpp/convert.h"
#include "clients/cpp/rtt_store.h"
#include "clients/cpp/directory_cache.h"
#include "clients/cpp/directory_stub.h"
#include "clients/cpp/errors.h"
#include "clients/cpp/tls.h"
#include "dcdir/client/directory_watcher.h"

namespace dcdir::client {
namespace {

std::chrono::system_clock::time_point RpcDeadline(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryClient>> DirectoryClient::Create(ClientOptions options) {
  if (options.addresses.empty()) {
    return absl::InvalidArgumentError("ClientOptions.addresses needs at least one host:port");
  }
  if (options.deadline <= absl::ZeroDuration() ||
      options.attempt_timeout <= absl::ZeroDuration() || options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        "ClientOptions.deadline and attempt_timeout must be > 0 and max_attempts >= 1");
  }
  if (options.max_stale < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ClientOptions.max_stale must be >= 0");
  }
  if (options.clock == nullptr) options.clock = std::make_shared<RealClock>();
  if (!options.stub_factory) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        MakeChannelCredentials(options.tls);
    if (!credentials.ok()) return credentials.status();
    options.stub_factory = DefaultStubFactory(*std::move(credentials));
  }
  return std::unique_ptr<DirectoryClient>(new DirectoryClient(std::move(options)));
}

DirectoryClient::DirectoryClient(ClientOptions options)
    : options_(std::move(options)),
      rtts_(std::make_unique<RttStore>(options_.cache_dir, options_.rtt)) {
  if (!options_.cache_dir.empty()) cache_ = std::make_unique<DirectoryCache>(options_.cache_dir);
  rng_state_ = options_.seed != 0 ? options_.seed : std::random_device{}();
}

DirectoryClient::~DirectoryClient() = default;

std::shared_ptr<DirectoryStub> DirectoryClient::StubFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& stub = stubs_[address];
  if (stub == nullptr) stub = options_.stub_factory(address);
  return stub;
}

absl::Duration DirectoryClient::NextBackoff(int retry) {
  const BackoffPolicy& b = options_.backoff;
  absl::Duration base = b.initial;
  for (int i = 0; i < retry && base < b.maximum; ++i) base = base * b.multiplier;
  base = std::min(base, b.maximum);
  double unit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // splitmix64: small, seedable, good enough for jitter.
    uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    unit = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
  }
  const double jitter = std::clamp(b.jitter, 0.0, 1.0);
  return base * (1.0 - jitter * unit);
}

absl::StatusOr<Resolution> DirectoryClient::MakeResolution(Directory directory, Source source,
                                                           std::string address,
                                                           absl::Time fetched_at,
                                                           int rpc_attempts) {
  auto refuse = [&](const DataCenter& dc, bool secondary) {
    if (options_.pinning.Allows(dc)) return;
    std::cerr << "dcdir-client: WARNING: refusing data center " << dc.id << " (region "
              << dc.region << ", country " << dc.country << ") offered as a "
              << (secondary ? "secondary" : "primary") << ": outside the client pinning ("
              << options_.pinning.Describe() << ")\n";
    if (options_.on_refused) options_.on_refused(RefusedDatacenter{dc, secondary});
  };
  for (const DataCenter& dc : directory.primaries) refuse(dc, false);
  for (const DataCenter& dc : directory.secondaries) refuse(dc, true);
  absl::StatusOr<AttemptPlan> plan = BuildAttemptPlan(directory, options_.pinning);
  if (!plan.ok()) return plan.status();
  Resolution resolution;
  resolution.directory = options_.pinning.empty()
                              ? std::move(directory)
                              : FilterDirectory(directory, options_.pinning);
  resolution.plan = *std::move(plan);
  resolution.source = source;
  resolution.address = std::move(address);
  resolution.fetched_at = fetched_at;
  resolution.rpc_attempts = rpc_attempts;
  return resolution;
}

absl::StatusOr<Resolution> DirectoryClient::FromCache(const DirectoryRequest& request,
                                                      const absl::Status& last_error) {
  const std::string what = absl::StrCat("no directory server answered (", options_.addresses.size(),
                                        " address(es); last error: ", last_error.message(), ")");
  if (!cache_) {
    return absl::UnavailableError(absl::StrCat(what, "; no disk cache is configured"));
  }
  absl::StatusOr<CachedDirectory> cached = cache_->Load(ToProto(request));
  if (!cached.ok()) {
    return absl::UnavailableError(
        absl::StrCat(what, " and there is no cached answer for this request"));
  }
  const absl::Time now = options_.clock->Now();
  Directory directory = FromProto(cached->directory);
  const absl::Time usable_until = cached->fetched_at + directory.ttl + options_.max_stale;
  if (now > usable_until) {
    return WithReason(
        absl::UnavailableError(absl::StrCat(
            what, "; the cached answer fetched at ", absl::FormatTime(cached->fetched_at),
            " expired at ", absl::FormatTime(usable_until), " (ttl ",
            absl::FormatDuration(directory.ttl), " + max_stale ",
            absl::FormatDuration(options_.max_stale), ")")),
        "CACHE_EXPIRED");
  }
  std::cerr << "dcdir-client: WARNING: " << what << "; using the cached answer fetched at "
            << absl::FormatTime(cached->fetched_at) << "\n";
  return MakeResolution(std::move(directory), Source::kCache, "", cached->fetched_at, 0);
}

void DirectoryClient::RecordRtt(const std::string& datacenter_id, absl::Duration rtt) {
  if (rtt <= absl::ZeroDuration()) return;
  if (absl::Status s = rtts_->Record(datacenter_id, rtt, options_.clock->Now()); !s.ok()) {
    std::cerr << "dcdir-client: WARNING: " << s.message() << "\n";
  }
}

std::vector<MeasuredRtt> DirectoryClient::ObservedRtts() const {
  return rtts_->Fresh(options_.clock->Now());
}

absl::StatusOr<Resolution> DirectoryClient::Resolve(const DirectoryRequest& original) {
  DirectoryRequest request = original;
  rtts_->AddTo(&request, options_.clock->Now());
  const v1::GetDirectoryRequest proto_request = ToProto(request);
  const Clock& clock = *options_.clock;
  const absl::Time deadline = clock.Now() + options_.deadline;
  const size_t n = options_.addresses.size();
  absl::Status last_error = absl::DeadlineExceededError("the Resolve deadline passed");
  bool server_answered = false;
  int attempts = 0;
  int passes = 0;
  while (attempts < options_.max_attempts) {
    const absl::Duration left = deadline - clock.Now();
    if (left <= absl::ZeroDuration()) break;
    const std::string& address = options_.addresses[attempts % n];
    grpc::ClientContext context;
    context.set_deadline(RpcDeadline(std::min(left, options_.attempt_timeout)));
    absl::StatusOr<v1::Directory> answer =
        StubFor(address)->GetDirectory(context, proto_request);
    ++attempts;
    if (answer.ok()) {
      const absl::Time fetched_at = clock.Now();
      SaveToCache(cache_.get(), proto_request, *answer, fetched_at);
      return MakeResolution(FromProto(*answer), Source::kServer, address, fetched_at, attempts);
    }
    last_error = answer.status();
    if (!IsTransportFailure(last_error)) server_answered = true;
    if (!IsRetryable(last_error)) return last_error;
    if (attempts % n == 0 && attempts < options_.max_attempts) {
      // A full pass found no answer: back off before the next one.
      const absl::Duration wait = NextBackoff(passes++);
      if (clock.Now() + wait >= deadline) break;
      clock.SleepFor(wait);
    }
  }
  // A server that answered (e.g. UNAVAILABLE NO_HEALTHY_COMPLIANT_DATACENTER) is the truth:
  // never replace its verdict with an older cached one.
  if (server_answered) return last_error;
  return FromCache(request, last_error);
}

absl::StatusOr<ReportFallbackResult> DirectoryClient::ReportFallback(
    const DirectoryRequest& request, const Resolution& resolution,
    const std::string& dc_id, int attempts) {
  const PlannedAttempt* planned = nullptr;
  for (const PlannedAttempt& a : resolution.plan.attempts) {
    if (a.datacenter.id == dc_id) planned = &a;
  }
  if (planned == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("data center ", dc_id, " is not in the attempt plan"));
  }
  v1::FallbackReport report;
  report.set_client_country(request.client_country);
  report.set_tenant_id(request.tenant_id);
  report.set_datacenter_id(dc_id);
  report.set_attempts(static_cast<uint32_t>(std::max(attempts, 1)));
  report.set_fallback(planned->secondary);
  absl::Status last_error;
  for (const std::string& address : options_.addresses) {
    grpc::ClientContext context;
    context.set_deadline(RpcDeadline(options_.attempt_timeout));
    absl::StatusOr<v1::ReportFallbackResponse> response =
        StubFor(address)->ReportFallback(context, report);
    if (response.ok()) return FromProto(*response);
    if (!IsTransportFailure(response.status())) return response.status();
    last_error = response.status();
  }
  return last_error;
}

absl::StatusOr<Connection> DirectoryClient::Connect(
    const DirectoryRequest& request, const Resolution& resolution,
    const std::function<absl::Status(const DataCenter&)>& try_connect) {
  int attempts = 0;
  std::string failures;
  for (const PlannedAttempt& a : resolution.plan.attempts) {
    ++attempts;
    const auto start = std::chrono::steady_clock::now();
    absl::Status s = try_connect(a.datacenter);
    if (s.ok()) {
      RecordRtt(a.datacenter.id, absl::FromChrono(std::chrono::steady_clock::now() - start));
      Connection connection;
      connection.datacenter = a.datacenter;
      connection.attempts = attempts;
      connection.fallback = a.secondary;
      connection.report = ReportFallback(request, resolution, a.datacenter.id, attempts);
      if (!connection.report.ok()) {
        std::cerr << "dcdir-client: WARNING: could not report the connection to "
                  << a.datacenter.id << ": " << connection.report.status().message() << "\n";
      }
      return connection;
    }
    absl::StrAppend(&failures, failures.empty() ? "" : "; ", a.datacenter.id, ": ",
                    s.message());
  }
  return absl::UnavailableError(absl::StrCat("could not connect to any of the ", attempts,
                                             " planned data centers (", failures, ")"));
}

std::unique_ptr<DirectoryWatcher> DirectoryClient::Watch(
    DirectoryRequest request, std::function<void(const absl::StatusOr<Resolution>&)> on_update) {
  auto watcher = std::unique_ptr<DirectoryWatcher>(
      new DirectoryWatcher(this, std::move(request), std::move(on_update)));
  watcher->Start();
  return watcher;
}

}  // namespace dcdir::client
