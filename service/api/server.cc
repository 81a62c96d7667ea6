#include "service/api/server.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/config/compliance_change.h"
#include "service/util/log.h"

namespace dcdir::api {

absl::StatusOr<std::unique_ptr<DcdirServer>> DcdirServer::Start(
    std::shared_ptr<const core::Topology> topology, store::Store* store,
    const core::Clock* clock, ServerOptions options) {
  std::shared_ptr<grpc::ServerCredentials> credentials = options.credentials;
  if (!options.tls.cert_file.empty()) {
    auto tls = MakeServerTlsCredentials(options.tls);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  std::unique_ptr<DcdirServer> s(new DcdirServer());
  s->clock_ = clock;
  s->metrics_ = std::make_unique<metrics::Metrics>();
  s->metrics_->SetTopology(*topology);
  s->state_ = std::make_unique<runtime::DirectoryState>(std::move(topology), store, clock,
                                                        options.state);
  s->auth_ = std::make_unique<Authenticator>(
      options.auth_token, !options.tls.cert_file.empty() && !options.tls.client_ca_file.empty());
  ServiceContext context{s->state_.get(), s->metrics_.get(), clock, s->auth_.get()};
  s->directory_ = std::make_unique<DirectoryServiceImpl>(context, options.audit);
  s->directory_->hub().set_max_watchers(options.max_watch_streams);
  s->reporting_ = std::make_unique<ReportingServiceImpl>(
      context, options.fallback_reports_per_second, options.health_reports_per_second_per_dc,
      options.health_report_burst_per_dc);
  s->admin_ = std::make_unique<AdminServiceImpl>(context);

  DcdirServer* raw = s.get();
  if (!options.snapshot_file.empty()) {
    s->saver_ = std::make_unique<runtime::SnapshotSaver>(options.snapshot_file, clock);
    s->state_->AddSnapshotListener([raw](const std::shared_ptr<const core::Snapshot>& snapshot) {
      raw->saver_->Offer(snapshot);
    });
  }
  s->state_->AddSnapshotListener([raw](const std::shared_ptr<const core::Snapshot>& snapshot) {
    raw->metrics_->OnSnapshot(*snapshot);
    raw->metrics_->SetSelfPreservation(raw->state_->self_preservation_active());
    raw->directory_->hub().NotifyAll();
    raw->SetServing(true);
  });
  s->state_->SetTickListener([raw, store] {
    raw->metrics_->SetStoreBadRecords(store->BadRecords());
    if (auto snapshot = raw->state_->Current()) {
      raw->metrics_->SetSnapshotAge(raw->state_->HealthNow() - snapshot->built_at);
    }
  });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address,
                           credentials ? credentials : grpc::InsecureServerCredentials(),
                           &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (options.max_concurrent_streams_per_connection > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                               options.max_concurrent_streams_per_connection);
  }
  builder.RegisterService(s->directory_.get());
  builder.RegisterService(s->reporting_.get());
  builder.RegisterService(s->admin_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (port in use?)"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(false);

  if (absl::Status status = s->state_->Initialize(); !status.ok()) {
    if (options.snapshot_file.empty()) {
      DCDIR_LOG(kWarning) << "store not readable at start (" << status.message()
                          << "); NOT_SERVING until it is";
    } else {
      s->ServeSavedSnapshot(options.snapshot_file, options.snapshot_max_age, status);
    }
  }
  if (s->saver_ != nullptr) s->saver_->Start();
  if (s->state_->Current() != nullptr) s->SetServing(true);
  s->state_->Start();
  return s;
}

DcdirServer::~DcdirServer() { Shutdown(absl::ZeroDuration()); }

void DcdirServer::SetServing(bool serving) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_ || draining_ || serving_ == serving || server_ == nullptr) return;
  serving_ = serving;
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void DcdirServer::StopServing() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_ || draining_ || server_ == nullptr) return;
  draining_ = true;
  serving_ = false;
  server_->GetHealthCheckService()->SetServingStatus(false);
}

DcdirServer::ReloadResult DcdirServer::ApplyConfig(const absl::StatusOr<core::World>& world) {
  absl::StatusOr<std::shared_ptr<const core::Topology>> topology =
      world.ok() ? core::Topology::Compile(*world) : world.status();
  if (!topology.ok()) {
    DCDIR_LOG(kError) << "config reload rejected, still serving the previous config: "
                      << topology.status().message();
    metrics_->RecordConfigReload(metrics::ConfigReloadResult::kError);
    return ReloadResult::kInvalid;
  }
  const std::shared_ptr<const core::Topology> served = state_->topology();
  const config::ComplianceChange change = config::CompareCompliance(*served, **topology);
  if (change.refused()) {
    DCDIR_LOG(kError) << "config reload refused, still serving the previous config: "
                      << config::LooseningSummary(*served, **topology, change);
    metrics_->RecordConfigReload(metrics::ConfigReloadResult::kLooseningRefused);
    return ReloadResult::kLooseningRefused;
  }
  metrics_->SetTopology(**topology);
  state_->ReplaceTopology(*topology);
  metrics_->RecordConfigReload(metrics::ConfigReloadResult::kSuccess);
  std::string how;
  if (change.diff.loosens()) {
    how = absl::StrCat(" (loosens ", change.diff.loosened.size(),
                       " (client, DC) pairs, acknowledged by allow_loosening_from)");
  }
  if (!change.diff.tightened.empty()) {
    absl::StrAppend(&how, " (tightens ", change.diff.tightened.size(), " (client, DC) pairs)");
  }
  DCDIR_LOG(kInfo) << "config reloaded, version " << (*topology)->world().version << how;
  return ReloadResult::kApplied;
}

void DcdirServer::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(false);
    shut_down_ = true;
  }
  directory_->hub().Shutdown();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  state_->Stop();
  if (saver_ != nullptr) saver_->Stop();
}

void DcdirServer::ServeSavedSnapshot(const std::string& path, absl::Duration max_age,
                                     const absl::Status& store_error) {
  absl::StatusOr<runtime::SavedState> saved = runtime::ReadSavedState(path, max_age, clock_->Now());
  if (!saved.ok()) {
    DCDIR_LOG(kWarning) << "store not readable at start (" << store_error.message()
                        << ") and the snapshot file is not used (" << saved.status().message()
                        << "): NOT_SERVING, every client fails closed until the store is readable";
    return;
  }
  const size_t records = saved->state.health.size(), tenants = saved->state.tenants.size();
  absl::Status served = state_->InitializeFromSaved(std::move(saved->state), saved->health_time);
  if (!served.ok()) return;  // the store answered in the meantime: a fresh snapshot is served
  DCDIR_LOG(kWarning) << "store not readable at start (" << store_error.message()
                      << "): serving the snapshot file " << path << " (written "
                      << absl::FormatDuration(clock_->Now() - saved->written_at) << " ago, "
                      << records << " health records, " << tenants
                      << " tenant policies) marked stale until the store is back; compliance "
                         "comes from the config";
}

}  // namespace dcdir::api
