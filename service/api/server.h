#ifndef DCDIR_SERVICE_API_SERVER_H_
#define DCDIR_SERVICE_API_SERVER_H_

// The dcdir gRPC server: the three services, grpc.health.v1 and reflection, wired to the live
// directory state. Used by main and, unchanged, by the service tests (port 0).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "service/api/admin_service.h"
#include "service/api/connection_listener.h"
#include "service/api/directory_service.h"
#include "service/api/health_watch_tracker.h"
#include "service/api/reporting_service.h"
#include "service/api/tls.h"
#include "service/audit/audit_sink.h"
#include "service/core/topology.h"
#include "service/metrics/metrics.h"
#include "service/runtime/directory_state.h"
#include "service/runtime/snapshot_file.h"
#include "service/store/store.h"

namespace dcdir::api {

struct ServerOptions {
  // host:port; port 0 picks a free port (see DcdirServer::port()).
  std::string listen_address = "0.0.0.0:50051";
  // Bearer token for ReportingService.ReportHealth and AdminService; empty: no check.
  std::string auth_token;
  // Server-wide bound on ReportFallback calls, and per client address (0: none); see
  // ReportingServiceImpl.
  double fallback_reports_per_second = 1000;
  double fallback_reports_per_second_per_peer = 0;
  // Largest request accepted (requests are tiny; this stops memory abuse).
  int max_receive_message_bytes = 64 * 1024;
  // TLS from files (reloaded when they change) when tls.cert_file is set; with
  // tls.client_ca_file, verified client certificates also authenticate reporters and admins.
  ServerTlsFiles tls;
  // Used when tls.cert_file is empty; insecure when null.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Most WatchDirectory streams open at once (RESOURCE_EXHAUSTED TOO_MANY_WATCHES beyond);
  // 0: no limit.
  size_t max_watch_streams = 10000;
  // Most WatchDirectory streams open at once from one client address (RESOURCE_EXHAUSTED
  // TOO_MANY_WATCHES_FROM_PEER beyond), so that one client cannot take every slot; 0: no
  // limit (the binary's flag defaults to 1000).
  size_t max_watch_streams_per_peer = 0;
  // Most concurrent calls on one client connection (HTTP/2 MAX_CONCURRENT_STREAMS); 0: gRPC's
  // default.
  int max_concurrent_streams_per_connection = 1000;
  // Connection bounds (ConnectionListener and gRPC's channel arguments). 0 / zero durations:
  // no bound. Defaults are the binary's flag defaults (service/main.cc); tests set what they test.
  size_t max_connections = 0;           // concurrent connections on the gRPC port
  size_t max_connections_per_peer = 0;  // concurrent connections from one peer address
  // Close a connection with no call for this long (GRPC_ARG_MAX_CONNECTION_IDLE_MS).
  absl::Duration max_connection_idle = absl::ZeroDuration();
  // Close any connection after this long (GOAWAY), letting its calls finish for `..._grace`
  // (GRPC_ARG_MAX_CONNECTION_AGE_MS / _GRACE_MS): watch streams then reconnect.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::ZeroDuration();
  // A connection must finish its TLS and HTTP/2 handshake within this
  // (GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS; gRPC's default is 120 s).
  absl::Duration handshake_timeout = absl::ZeroDuration();
  // Server-side keepalive: ping a connection idle this long, close it when the ping is not
  // answered within `keepalive_timeout` (dead peers free their descriptors).
  absl::Duration keepalive_time = absl::ZeroDuration();
  absl::Duration keepalive_timeout = absl::ZeroDuration();
  // Keepalive enforcement: a client pinging more often than this (without calls) gets GOAWAY
  // after two strikes (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, MAX_PING_STRIKES).
  absl::Duration min_client_ping_interval = absl::ZeroDuration();
  // The listener watchdog: every `watchdog_period` the accept loop's heartbeat is checked and a
  // grpc.health.v1 Check is sent through the gRPC server over a private socketpair; after
  // `watchdog_failures` failures in a row `on_listener_dead` runs (the binary: log and exit 1,
  // so that an orchestrator restarts it). Zero period: no watchdog.
  absl::Duration watchdog_period = absl::ZeroDuration();
  int watchdog_failures = 3;
  std::function<void(const std::string& why)> on_listener_dead;
  // ReportHealth per DC (RESOURCE_EXHAUSTED RATE_LIMITED above); 0: no limit (the binary's
  // flags default to 20/s, burst 40).
  double health_reports_per_second_per_dc = 0;
  double health_report_burst_per_dc = 0;
  // Store writes (ReportHealth, SetTenantPolicy, DeleteTenantPolicy) run on a thread of their
  // own, never on gRPC's (a slow store must not delay answers). At most this many wait;
  // beyond, UNAVAILABLE STORE_UNAVAILABLE at once. 1,024: one report from every DC of a
  // 1,000-DC world.
  size_t store_write_backlog = 1024;
  runtime::DirectoryStateOptions state;
  // The snapshot file (runtime/snapshot_file.h; empty: none): kept in step with the fresh
  // snapshots, and served, marked stale, when the store is unreachable at start and the file
  // is at most snapshot_max_age old.
  std::string snapshot_file;
  absl::Duration snapshot_max_age = absl::Minutes(10);
  // Hears of every cross-border fallback answer sent (the audit trail); null: none. Must
  // outlive the server.
  audit::AuditSink* audit = nullptr;
  // GeoIP for requests without a location or country (--geoip_db, --trusted_proxies); null:
  // none. Must outlive the server.
  const geoip::ClientLocator* geoip = nullptr;
};

// The grpc.health.v1 service name that says "this process is alive" (liveness probes), apart
// from "" (the whole server: SERVING once the first snapshot is built; readiness probes).
inline constexpr char kLivenessService[] = "dcdir.liveness";

class DcdirServer {
 public:
  // Starts serving. The health service says NOT_SERVING until the first snapshot is built
  // (the store may still be unreachable; the state keeps retrying). `store` and `clock` must
  // outlive the server.
  static absl::StatusOr<std::unique_ptr<DcdirServer>> Start(
      std::shared_ptr<const core::Topology> topology, store::Store* store,
      const core::Clock* clock, ServerOptions options);
  ~DcdirServer();

  int port() const { return port_; }
  // The gRPC port's accept loop (connection counts for metrics and tests).
  const ConnectionListener& listener() const { return *listener_; }
  ConnectionListener& listener() { return *listener_; }
  // Open WatchDirectory streams.
  size_t open_watches() const { return directory_->hub().size(); }
  // Completed WatchDirectory fan-out passes (WatchHub::passes()).
  uint64_t watch_passes() const { return directory_->hub().passes(); }
  metrics::Metrics& metrics() { return *metrics_; }
  runtime::DirectoryState& state() { return *state_; }
  std::shared_ptr<prometheus::Registry> registry() const { return metrics_->registry(); }

  enum class ReloadResult { kApplied, kInvalid, kLooseningRefused, kUnchanged };
  // A live config reload: serves the new world, or keeps the served one and logs one error
  // line. A world of the served version (the file is back to what is served, e.g. restored
  // after a rejected edit) changes nothing: kUnchanged, logged as such and counted as
  // dcdir_config_reload_total{result="unchanged"}. Refused (kLooseningRefused, counted as
  // dcdir_config_reload_total{result="loosening_refused"}) when the new world allows a (client, DC) pair that the served one
  // denies and does not name the served version in allow_loosening_from
  // (config::CompareCompliance); a tightening applies at once.
  ReloadResult ApplyConfig(
      const absl::StatusOr<std::shared_ptr<const core::Topology>>& topology);

  // The start of a drain: the health service says NOT_SERVING from now on (load balancers stop
  // sending new calls) while every call is still answered. Shutdown follows.
  void StopServing();

  // NOT_SERVING, ends WatchDirectory and grpc.health.v1.Health/Watch streams (each watcher gets
  // NOT_SERVING first, waited for up to 1 s or `grace` if shorter), lets in-flight calls finish
  // for up to `grace`, then stops. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  DcdirServer() = default;
  void SetServing(bool serving);
  // At start, when the store is unreadable: serves the snapshot file if it is valid and young
  // enough, else logs why not (fail closed).
  void ServeSavedSnapshot(const std::string& path, absl::Duration max_age,
                          const absl::Status& store_error);
  // One watchdog round: the accept loop ran within `heartbeat_limit`, and a health Check
  // through the server is answered.
  absl::Status CheckListener(absl::Duration heartbeat_limit);
  void RunWatchdog(absl::Duration period, int failures,
                   std::function<void(const std::string&)> on_dead);

  const core::Clock* clock_ = nullptr;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<runtime::DirectoryState> state_;
  std::unique_ptr<runtime::SnapshotSaver> saver_;  // null without a snapshot file
  std::unique_ptr<Authenticator> auth_;
  // The store writes of ReportHealth and the admin RPCs (ServiceContext::store_calls). Outlives
  // server_: the server's drain waits for the calls still queued here.
  std::unique_ptr<util::WorkQueue> store_calls_;
  std::unique_ptr<DirectoryServiceImpl> directory_;
  std::unique_ptr<ReportingServiceImpl> reporting_;
  std::unique_ptr<AdminServiceImpl> admin_;
  // The open grpc.health.v1.Health/Watch calls, ended by Shutdown. Outlives server_ (its
  // interceptors refer to it).
  std::unique_ptr<HealthWatchTracker> health_watches_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ConnectionListener> listener_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  // Connections made inside the process for the watchdog (plaintext, never on the network).
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> probe_acceptor_;
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ ABSL_GUARDED_BY(watchdog_mu_) = false;
  int port_ = 0;
  std::mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_SERVER_H_
