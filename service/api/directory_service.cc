#include "service/api/directory_service.h"

#include <chrono>
#include <mutex>
#include <string>

#include "absl/strings/match.h"
#include "service/api/mapping.h"
#include "service/api/reasons.h"
#include "service/api/validation.h"
#include "service/core/answer.h"
#include "service/core/exclusions.h"

namespace dcdir::api {
namespace {

using Clock = std::chrono::steady_clock;

absl::Duration Since(Clock::time_point start) {
  return absl::FromChrono(Clock::now() - start);
}

}  // namespace

// What a watcher's message says, without snapshot_version and generated_at: the region, the
// picks with each DC's shown state, the flags, staleness, the location source and the config
// version (which covers every config-static field: DC names, endpoints, TTL). Two answers
// with the same key make the same message (FillDirectory), so a watcher compares keys (a few
// hundred bytes, no protobuf work) and builds a message only when its key changed.
std::string WatchKey(const core::Snapshot& snapshot, const core::Answer& answer) {
  std::string key;
  auto put = [&key](const auto& v) {
    key.append(reinterpret_cast<const char*>(&v), sizeof(v));
  };
  put(answer.region);
  put(answer.fallback_active);
  put(answer.secondary_attempts);
  put(snapshot.stale);
  put(answer.location_source);
  for (const auto* picks : {&answer.primaries, &answer.secondaries}) {
    put(picks->size());
    for (const core::Pick& p : *picks) {
      const core::DcState& st = snapshot.dcs[p.dc];
      put(p.dc);
      put(p.cross_border);
      put(st.status);
      put(st.record.congestion);
      put(st.congested);
      put(st.health_kept);
    }
  }
  key.append(snapshot.topology->world().version);
  return key;
}

core::AnswerRequest DirectoryServiceImpl::Located::ToCore(
    const v1::GetDirectoryRequest& request) const {
  core::AnswerRequest r;
  r.country = fields.country;
  r.tenant_id = request.tenant_id();
  r.client_id = request.client_id();
  r.max_secondaries = request.max_secondaries();
  r.subdivision = fields.subdivision;
  r.location = fields.location;
  r.geoip_location = geoip_location;
  r.observed_rtts = fields.observed_rtts;
  return r;
}

absl::StatusOr<DirectoryServiceImpl::Located> DirectoryServiceImpl::Locate(
    const grpc::ServerContextBase& context, const v1::GetDirectoryRequest& request) const {
  absl::StatusOr<DirectoryRequestFields> fields = ValidateDirectoryRequest(request);
  if (!fields.ok()) return fields.status();
  Located located;
  located.fields = *std::move(fields);
  Located* const out = &located;
  out->country_declared = !request.client_country().empty();
  // GeoIP only when it can add something: a country or a location.
  const bool need_country = out->fields.country.empty();
  if (context_.locator != nullptr && (need_country || !out->fields.location.has_value())) {
    const geoip::GeoIpResult found = context_.locator->Locate(
        context.peer(), RequestHeader(context, "x-forwarded-for"), RequestHeader(context, "forwarded"));
    if (need_country) out->fields.country = found.country;  // a declared country always wins
    out->geoip_location = found.location;
  }
  if (out->fields.country.empty()) return MissingCountryError(context_.locator != nullptr);
  return located;
}

// One WatchDirectory stream. Sends the current answer, then a new one only when the answer
// (ignoring snapshot_version and generated_at) changes. Ends with the error GetDirectory
// would give when there is no answer, so the client can back off and watch again.
//
// Owned by shared pointers: its own (`self_`, dropped in OnDone) and the hub's; the fan-out
// thread may hold one for a moment after OnDone, and then finds it finished. Memory per stream
// (docs/SECURITY.md): the request, the last key, and one message only while it is being
// written; gRPC's own per-stream state comes on top.
class Watcher final : public grpc::ServerWriteReactor<v1::Directory> {
 public:
  Watcher(DirectoryServiceImpl* service, grpc::CallbackServerContext* context,
          const v1::GetDirectoryRequest& request)
      : service_(service), context_(context), request_(request) {}

  static Watcher* Create(DirectoryServiceImpl* service, grpc::CallbackServerContext* context,
                         const v1::GetDirectoryRequest& request) {
    auto watcher = std::make_shared<Watcher>(service, context, request);
    watcher->self_ = watcher;
    watcher->Start();
    return watcher.get();
  }

  // Re-computes the answer on the current snapshot; sends it when it changed. Safe from any
  // thread; never blocks on the client.
  void Update() {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    if (writing_) {
      pending_ = true;  // coalesced: the newest answer is sent when the write completes
      return;
    }
    const DirectoryServiceImpl::Computed computed =
        service_->Compute(request_, located_, /*response=*/nullptr);
    if (!computed.error.ok()) {
      service_->Count(request_, located_, computed);
      grpc::Status status = Reply(context_, computed.error);
      Record(service_->RegionOf(located_, computed), status.error_code());
      FinishLocked(std::move(status));
      return;
    }
    std::string key = WatchKey(*computed.snapshot, computed.answer);
    if (key == last_key_) return;
    service_->Count(request_, located_, computed);
    Record(service_->RegionOf(located_, computed), grpc::StatusCode::OK);
    last_key_ = std::move(key);
    service_->Fill(computed, located_, &message_);
    writing_ = true;
    StartWrite(&message_);
  }

  void Shutdown() {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down"));
  }

  void OnWriteDone(bool ok) override {
    bool again;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      v1::Directory().Swap(&message_);  // frees the sent message: nothing kept between writes
      if (!ok) {
        FinishLocked(grpc::Status::CANCELLED);
        return;
      }
      again = std::exchange(pending_, false);
    }
    if (again) Update();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    service_->hub().Unregister(this);
    std::shared_ptr<Watcher> self;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
      self = std::move(self_);
    }
    // `self` may be the last reference: this object may be gone after the return.
  }

 private:
  void Start() {
    absl::StatusOr<DirectoryServiceImpl::Located> located = service_->Locate(*context_, request_);
    if (!located.ok()) {
      grpc::Status status = Reply(context_, located.status());
      Record({}, status.error_code());
      std::lock_guard<std::mutex> lock(mu_);
      FinishLocked(std::move(status));
      return;
    }
    located_ = *std::move(located);
    const WatchHub::Admission admission =
        service_->hub().Register(self_, WatchHub::PeerAddress(context_->peer()));
    if (admission == WatchHub::Admission::kShuttingDown) {
      Shutdown();
      return;
    }
    if (admission != WatchHub::Admission::kAdmitted) {
      const bool server_wide = admission == WatchHub::Admission::kTooMany;
      const DirectoryServiceImpl::ClientRegion region = service_->RegionOf(located_);
      service_->context().metrics->RecordDirectoryError(
          region.topology, region.index,
          server_wide ? metrics::DirectoryError::kTooManyWatches
                      : metrics::DirectoryError::kTooManyWatchesFromPeer);
      Record(region, grpc::StatusCode::RESOURCE_EXHAUSTED);
      const absl::Status error =
          server_wide
              ? ApiError(absl::StatusCode::kResourceExhausted, reasons::kTooManyWatches,
                         "this server has too many open watches; use GetDirectory or retry "
                         "later with backoff")
              : ApiError(absl::StatusCode::kResourceExhausted, reasons::kTooManyWatchesFromPeer,
                         "this client address has too many open watches on this server; close "
                         "some, or use GetDirectory");
      std::lock_guard<std::mutex> lock(mu_);
      FinishLocked(Reply(context_, error));
      return;
    }
    Update();
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  void Record(const DirectoryServiceImpl::ClientRegion& region, grpc::StatusCode code) {
    service_->ObserveRequest(metrics::Method::kWatchDirectory, region, code,
                             absl::ZeroDuration());
  }

  DirectoryServiceImpl* const service_;
  grpc::CallbackServerContext* const context_;
  const v1::GetDirectoryRequest request_;
  DirectoryServiceImpl::Located located_;  // views into request_
  std::shared_ptr<Watcher> self_;  // set by Create, dropped in OnDone
  std::mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_key_ ABSL_GUARDED_BY(mu_);
  v1::Directory message_ ABSL_GUARDED_BY(mu_);
};

WatchHub::WatchHub() : thread_([this] { FanOut(); }) {}

WatchHub::~WatchHub() { Shutdown(); }

std::string WatchHub::PeerAddress(const std::string& peer) {
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    const size_t colon = peer.rfind(':');
    if (colon != std::string::npos && colon > 5) return peer.substr(0, colon);
  }
  return peer;
}

WatchHub::Admission WatchHub::Register(std::shared_ptr<Watcher> watcher,
                                       const std::string& peer_address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return Admission::kShuttingDown;
  if (max_watchers_ > 0 && watchers_.size() >= max_watchers_) return Admission::kTooMany;
  size_t& from_peer = per_peer_[peer_address];
  if (max_per_peer_ > 0 && from_peer >= max_per_peer_) {
    if (from_peer == 0) per_peer_.erase(peer_address);
    return Admission::kTooManyFromPeer;
  }
  ++from_peer;
  Watcher* key = watcher.get();
  watchers_.emplace(key, Entry{std::move(watcher), peer_address});
  return Admission::kAdmitted;
}

void WatchHub::Unregister(Watcher* watcher) {
  std::shared_ptr<Watcher> last;  // released after the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = watchers_.find(watcher);
  if (it == watchers_.end()) return;
  if (auto peer = per_peer_.find(it->second.peer); peer != per_peer_.end() && --peer->second == 0) {
    per_peer_.erase(peer);
  }
  last = std::move(it->second.watcher);
  watchers_.erase(it);
}

void WatchHub::NotifyAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

void WatchHub::FanOut() {
  std::vector<std::shared_ptr<Watcher>> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return dirty_ || shutting_down_; });
      if (shutting_down_) return;
      dirty_ = false;
      batch.clear();
      batch.reserve(watchers_.size());
      for (const auto& [raw, entry] : watchers_) batch.push_back(entry.watcher);
    }
    // Without the hub's lock: streams may open and close meanwhile.
    for (const std::shared_ptr<Watcher>& w : batch) w->Update();
    batch.clear();  // drops the references outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
  }
}

void WatchHub::Shutdown() {
  std::vector<std::shared_ptr<Watcher>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (const auto& [raw, entry] : watchers_) open.push_back(entry.watcher);
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  for (const std::shared_ptr<Watcher>& w : open) w->Shutdown();
}

bool WatchHub::shutting_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WatchHub::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watchers_.size();
}

uint64_t WatchHub::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

DirectoryServiceImpl::DirectoryServiceImpl(ServiceContext context, audit::AuditSink* audit)
    : context_(context), audit_(audit) {
  SetMessageAllocatorFor_GetDirectory(&get_allocator_);
}

DirectoryServiceImpl::Computed DirectoryServiceImpl::Compute(
    const v1::GetDirectoryRequest& request, const Located& located,
    v1::Directory* response) const {
  Computed c;
  c.snapshot = context_.state->Current();
  if (c.snapshot == nullptr) {
    c.error = NotReadyError();
    return c;
  }
  const std::string& country = located.fields.country;
  c.answer = core::ComputeAnswer(*c.snapshot, located.ToCore(request));
  if (c.answer.error != core::AnswerError::kNone) {
    c.error = AnswerToError(*c.snapshot, c.answer, country);
  } else if (response != nullptr) {
    Fill(c, located, response);
  }
  return c;
}

void DirectoryServiceImpl::Fill(const Computed& computed, const Located& located,
                                v1::Directory* response) const {
  FillDirectory(*computed.snapshot, computed.answer, context_.clock->Now(), response);
  if (!located.country_declared) response->set_client_country(located.fields.country);
}

DirectoryServiceImpl::ClientRegion DirectoryServiceImpl::RegionOf(
    const Located& located, const Computed& computed) const {
  if (computed.snapshot != nullptr) {
    return {computed.snapshot->topology.get(), computed.answer.region, nullptr};
  }
  return RegionOf(located);
}

DirectoryServiceImpl::ClientRegion DirectoryServiceImpl::RegionOf(const Located& located) const {
  // No snapshot yet: the served config still says who the client is.
  std::shared_ptr<const core::Topology> topology = context_.state->topology();
  const uint32_t index =
      topology->Resolve(located.fields.country, located.fields.subdivision).region;
  const core::Topology* raw = topology.get();
  return {raw, index, std::move(topology)};
}

void DirectoryServiceImpl::ObserveRequest(metrics::Method method, const ClientRegion& region,
                                          grpc::StatusCode code, absl::Duration elapsed) const {
  context_.metrics->ObserveRequest(method, region.topology, region.index,
                                   static_cast<int>(code), elapsed);
}

void DirectoryServiceImpl::Count(const v1::GetDirectoryRequest& request,
                                 const Located& located, const Computed& computed) const {
  if (!computed.error.ok()) {
    // From what failed, not from the error's token: no snapshot, or the answer's error.
    std::optional<metrics::DirectoryError> kind;
    if (computed.snapshot == nullptr) {
      kind = metrics::DirectoryError::kNotReady;
    } else {
      switch (computed.answer.error) {
        case core::AnswerError::kNoCompliantDatacenter:
          kind = metrics::DirectoryError::kNoCompliantDatacenter;
          break;
        case core::AnswerError::kNoHealthyCompliantDatacenter:
          kind = metrics::DirectoryError::kNoHealthyCompliantDatacenter;
          break;
        case core::AnswerError::kCountryNotMapped:
          kind = metrics::DirectoryError::kCountryNotMapped;
          break;
        case core::AnswerError::kNone:
          break;
      }
    }
    if (kind) {
      const ClientRegion region = RegionOf(located, computed);
      context_.metrics->RecordDirectoryError(region.topology, region.index, *kind);
    }
  }
  if (computed.snapshot == nullptr) return;
  const std::string& country = located.fields.country;
  core::ForEachComplianceExclusion(*computed.snapshot, located.ToCore(request), computed.answer,
                                   [&](uint32_t, int32_t rule) {
                                     context_.metrics->RecordComplianceExclusion(
                                         *computed.snapshot->topology, rule);
                                   });
  if (!computed.error.ok()) return;
  context_.metrics->RecordAnswer(*computed.snapshot->topology, computed.answer);
  if (audit_ != nullptr) {
    audit_->RecordAnswer(*computed.snapshot, computed.answer, country, request.tenant_id());
  }
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::GetDirectory(
    grpc::CallbackServerContext* context, const v1::GetDirectoryRequest* request,
    v1::Directory* response) {
  const auto start = Clock::now();
  auto* reactor = context->DefaultReactor();
  ClientRegion region;
  // An OK absl::Status and StatusOr hold no heap memory: the answered path allocates nothing
  // for errors.
  absl::Status error;
  absl::StatusOr<Located> located = Locate(*context, *request);
  if (located.ok()) {
    Computed computed = Compute(*request, *located, response);
    Count(*request, *located, computed);
    region = RegionOf(*located, computed);
    error = std::move(computed.error);
  } else {
    error = located.status();
  }
  const grpc::Status status = Reply(context, error);
  ObserveRequest(metrics::Method::kGetDirectory, region, status.error_code(), Since(start));
  reactor->Finish(status);
  return reactor;
}

grpc::ServerWriteReactor<v1::Directory>* DirectoryServiceImpl::WatchDirectory(
    grpc::CallbackServerContext* context, const v1::GetDirectoryRequest* request) {
  return Watcher::Create(this, context, *request);
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::ExplainDirectory(
    grpc::CallbackServerContext* context, const v1::GetDirectoryRequest* request,
    v1::DirectoryExplanation* response) {
  const auto start = Clock::now();
  auto* reactor = context->DefaultReactor();
  ClientRegion region;
  // An operator RPC: per-DC reasons name deny rules and a tenant's stored policy, which an
  // anonymous caller may not learn (docs/SECURITY.md, "What an anonymous caller learns").
  absl::Status error = context_.auth->CheckAdmin(*context);
  absl::StatusOr<Located> located;
  if (error.ok()) {
    located = Locate(*context, *request);
    if (!located.ok()) error = located.status();
  }
  if (error.ok()) {
    const std::string& country = located->fields.country;
    response->set_client_country(country);
    response->set_client_subdivision(located->fields.subdivision);
    const auto snapshot = context_.state->Current();
    if (snapshot == nullptr) {
      // Answered, with the outcome GetDirectory would give: no snapshot to explain yet.
      region = RegionOf(*located);
      const absl::Status not_ready = NotReadyError();
      response->set_outcome(metrics::CodeName(static_cast<int>(not_ready.code())));
      response->set_outcome_reason(ReasonOf(not_ready));
    } else {
      const core::AnswerRequest core_request = located->ToCore(*request);
      const core::Explanation explanation = core::Explain(*snapshot, core_request);
      region = {snapshot->topology.get(), explanation.answer.region, snapshot->topology};
      FillExplanation(*snapshot, explanation, country, context_.clock->Now(),
                      context_.state->HealthToWall(), response);
      if (!located->country_declared && response->has_directory()) {
        response->mutable_directory()->set_client_country(country);
      }
    }
  }
  const grpc::Status status = Reply(context, error);
  ObserveRequest(metrics::Method::kExplainDirectory, region, status.error_code(), Since(start));
  reactor->Finish(status);
  return reactor;
}

}  // namespace dcdir::api
