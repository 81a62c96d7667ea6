#include "service/api/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/create_channel_posix.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "service/api/unparsable_request.h"
#include "service/config/compliance_change.h"
#include "service/util/log.h"

namespace dcdir::api {
namespace {

// The store queue's threads: one. The store has one command connection, so a second thread
// would only wait for its lock, after its caller's cancellation was checked: a write whose
// caller has gone could then still be sent (docs/REDIS.md, "Faults").
constexpr int kStoreWriteThreads = 1;

}  // namespace

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
  s->store_calls_ = std::make_unique<util::WorkQueue>(kStoreWriteThreads,
                                                       options.store_write_backlog);
  ServiceContext context{s->state_.get(), s->metrics_.get(), clock, s->auth_.get(),
                         options.geoip, s->store_calls_.get()};
  s->directory_ = std::make_unique<DirectoryServiceImpl>(context, options.audit);
  s->directory_->hub().set_max_watchers(options.max_watch_streams);
  s->directory_->hub().set_max_watchers_per_peer(options.max_watch_streams_per_peer);
  s->reporting_ = std::make_unique<ReportingServiceImpl>(
      context, options.fallback_reports_per_second, options.health_reports_per_second_per_dc,
      options.health_report_burst_per_dc, options.fallback_reports_per_second_per_peer);
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
    const ConnectionListener::Stats c = raw->listener_->stats();
    raw->metrics_->SetConnectionCounts({c.accepted, c.refused_limit, c.refused_peer_limit,
                                        c.refused_descriptors, c.open});
    if (auto snapshot = raw->state_->Current()) {
      raw->metrics_->SetSnapshotAge(raw->state_->HealthNow() - snapshot->built_at);
    }
  });

  // The gRPC port is our own accept loop (ConnectionListener: gRPC 1.51's stops for good after
  // EMFILE), handing connections to the server through an external-connection acceptor.
  const size_t colon = options.listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.listen_address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", options.listen_address, "\" is not HOST:PORT"));
  }
  absl::StatusOr<std::unique_ptr<ConnectionListener>> listener = ConnectionListener::Bind(
      {.host = options.listen_address.substr(0, colon),
       .port = port,
       .max_connections = options.max_connections,
       .max_connections_per_peer = options.max_connections_per_peer});
  if (!listener.ok()) return listener.status();
  s->listener_ = *std::move(listener);
  s->port_ = s->listener_->port();

  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service carries no protobuf descriptor; linking and touching ours puts
  // grpc.health.v1 in the generated pool, so that reflection serves it (buf curl, grpcurl).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  s->acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      credentials ? credentials : grpc::InsecureServerCredentials());
  s->probe_acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (options.max_concurrent_streams_per_connection > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                               options.max_concurrent_streams_per_connection);
  }
  auto millis = [&](const char* arg, absl::Duration d) {
    if (d > absl::ZeroDuration()) {
      builder.AddChannelArgument(
          arg, static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX)));
    }
  };
  millis(GRPC_ARG_MAX_CONNECTION_IDLE_MS, options.max_connection_idle);
  millis(GRPC_ARG_MAX_CONNECTION_AGE_MS, options.max_connection_age);
  millis(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, options.max_connection_age_grace);
  millis(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, options.handshake_timeout);
  millis(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time);
  millis(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout);
  if (options.min_client_ping_interval > absl::ZeroDuration()) {
    millis(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
           options.min_client_ping_interval);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  }
  builder.RegisterService(s->directory_.get());
  builder.RegisterService(s->reporting_.get());
  builder.RegisterService(s->admin_.get());
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(
        std::make_unique<UnparsableRequestInterceptorFactory>(s->metrics_.get()));
    s->health_watches_ = std::make_unique<HealthWatchTracker>();
    factories.push_back(s->health_watches_->Factory());
    builder.experimental().SetInterceptorCreators(std::move(factories));
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot start the gRPC server on ", options.listen_address));
  }
  // "" (the whole server, what readiness asks) is SERVING once the first snapshot is built;
  // kLivenessService is SERVING while the process serves at all (until a drain or the
  // watchdog), so that a replica waiting for its store is not restarted for it.
  s->server_->GetHealthCheckService()->SetServingStatus(false);
  s->server_->GetHealthCheckService()->SetServingStatus(std::string(kLivenessService), true);
  s->listener_->Start(s->acceptor_.get());

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
  if (options.watchdog_period > absl::ZeroDuration()) {
    s->watchdog_ = std::thread([raw, period = options.watchdog_period,
                                failures = std::max(1, options.watchdog_failures),
                                on_dead = options.on_listener_dead] {
      raw->RunWatchdog(period, failures, on_dead);
    });
  }
  return s;
}

absl::Status DcdirServer::CheckListener(absl::Duration heartbeat_limit) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const absl::Duration silent = absl::Nanoseconds(now - listener_->heartbeat_nanos());
  if (silent > heartbeat_limit) {
    return absl::UnavailableError(absl::StrCat("the accept loop has not run for ",
                                               absl::FormatDuration(silent)));
  }
  // A health Check through the gRPC server itself, over a socketpair handed to it like an
  // accepted connection: proves the server still takes connections and answers calls.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::UnavailableError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
  params.listener_fd = -1;
  params.fd = fds[0];
  probe_acceptor_->HandleNewConnection(&params);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateInsecureChannelFromFd("dcdir-watchdog", fds[1]);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::ByteBuffer request, response;  // an empty HealthCheckRequest
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("health check through the server failed: ", status.error_message()));
  }
  return absl::OkStatus();
}

void DcdirServer::RunWatchdog(absl::Duration period, int failures,
                              std::function<void(const std::string&)> on_dead) {
  int failed = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(watchdog_mu_);
      if (watchdog_cv_.wait_for(lock, absl::ToChronoNanoseconds(period),
                                [this] { return watchdog_stop_; })) {
        return;
      }
    }
    // The accept loop wakes every 250 ms; a second (or two periods) of silence means stuck.
    const absl::Status status = CheckListener(std::max(absl::Seconds(1), 2 * period));
    if (status.ok()) {
      failed = 0;
      continue;
    }
    DCDIR_LOG(kWarning) << "listener watchdog: " << status.message() << " (" << failed + 1
                        << " of " << failures << " in a row)";
    if (++failed < failures) continue;
    const std::string why = absl::StrCat("the gRPC port stopped serving: ", status.message());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!shut_down_) server_->GetHealthCheckService()->SetServingStatus(false);  // all
    }
    if (on_dead) on_dead(why);
    return;
  }
}

DcdirServer::~DcdirServer() { Shutdown(absl::ZeroDuration()); }

void DcdirServer::SetServing(bool serving) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_ || draining_ || serving_ == serving || server_ == nullptr) return;
  serving_ = serving;
  server_->GetHealthCheckService()->SetServingStatus("", serving);
}

void DcdirServer::StopServing() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_ || draining_ || server_ == nullptr) return;
  draining_ = true;
  serving_ = false;
  server_->GetHealthCheckService()->SetServingStatus(false);
}

DcdirServer::ReloadResult DcdirServer::ApplyConfig(
    const absl::StatusOr<std::shared_ptr<const core::Topology>>& topology) {
  if (!topology.ok()) {
    DCDIR_LOG(kError) << "config reload rejected, still serving the previous config: "
                      << topology.status().message();
    metrics_->RecordConfigReload(metrics::ConfigReloadResult::kError);
    return ReloadResult::kInvalid;
  }
  const std::shared_ptr<const core::Topology> served = state_->topology();
  if ((*topology)->world().version == served->world().version) {
    DCDIR_LOG(kInfo) << "config file is back to the served version "
                     << served->world().version << "; nothing to reload";
    metrics_->RecordConfigReload(metrics::ConfigReloadResult::kUnchanged);
    return ReloadResult::kUnchanged;
  }
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
  {
    std::lock_guard<std::mutex> lock(watchdog_mu_);
    watchdog_stop_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  if (listener_ != nullptr) listener_->Stop();  // no new connections while draining
  directory_->hub().Shutdown();
  if (server_ != nullptr) {
    // Health Watch streams are in-flight calls too: left open, the drain below would wait for
    // them until `grace` runs out. Their watchers have been sent NOT_SERVING (StopServing and
    // the block above); once it is written (waited for up to 1 s), each stream is cancelled.
    health_watches_->EndAll(std::min(grace, absl::Seconds(1)));
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  if (store_calls_ != nullptr) store_calls_->Stop();
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
