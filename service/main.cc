// dcdir-server: the composition root. Parses flags, loads the config, picks the store, starts
// the gRPC server, the metrics endpoint and the config watcher, and drains on SIGTERM.

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dcdir/client/version.h"
#include "service/api/server.h"
#include "service/audit/audit_log.h"
#include "service/audit/audit_writer.h"
#include "service/config/compliance_change.h"
#include "service/config/config_loader.h"
#include "service/config/config_watcher.h"
#include "service/config/policy_report.h"
#include "service/config/tenants_file.h"
#include "service/config/what_if.h"
#include "service/config/what_if_render.h"
#include "service/core/clock.h"
#include "service/core/topology.h"
#include "service/metrics/metrics_http.h"
#include "service/geoip/geoip_database.h"
#include "service/store/in_memory_store.h"
#include "service/store/redis_store.h"
#include "service/store/redis_url.h"
#include "service/util/log.h"

ABSL_FLAG(std::string, config, "/etc/dcdir/world.yaml",
          "The world config (YAML): regions, DCs, countries, deny rules, thresholds. Reloaded "
          "when it changes; a bad new file is rejected and the old one keeps serving.");
ABSL_FLAG(int, grpc_port, 50051, "gRPC port (0 picks a free one and prints it).");
ABSL_FLAG(std::string, grpc_host, "0.0.0.0", "Address the gRPC port binds to.");
ABSL_FLAG(int, metrics_port, 9464, "Prometheus metrics port, serving only /metrics (0: off).");
ABSL_FLAG(std::string, metrics_host, "0.0.0.0", "Address the metrics port binds to.");
ABSL_FLAG(std::string, redis, "",
          "Shared store: redis://HOST:PORT[/DB] or redis+sentinel://H1:P1,H2:P2/MASTER_NAME. "
          "Empty: the embedded in-memory store (single replica only).");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (else the DCDIR_REDIS_PASSWORD environment variable; "
          "no AUTH when neither is set). Never logged.");
ABSL_FLAG(std::string, redis_key_prefix, "dcdir:", "Prefix of every Redis key and channel.");
ABSL_FLAG(absl::Duration, resync_interval, absl::Seconds(5),
          "How often every health record, and the tenant policies the store's tenant log lists "
          "as changed, are read again (repairs a lost change message).");
ABSL_FLAG(absl::Duration, full_resync_interval, absl::Seconds(60),
          "How often every tenant policy is read again as well (catches values written around "
          "dcdir, which the tenant log does not list).");
// The Redis store's timing (docs/REDIS.md, "Faults"); the defaults suit a store on the same LAN.
ABSL_FLAG(absl::Duration, redis_op_timeout, absl::Milliseconds(200),
          "Longest wait for one Redis round trip; raise it above the link's round trip plus a "
          "retransmission for a slow link (e.g. 1s behind 300 ms).");
ABSL_FLAG(absl::Duration, redis_connect_timeout, absl::Milliseconds(200),
          "Longest wait for a TCP connect to Redis or a sentinel.");
ABSL_FLAG(absl::Duration, redis_probe_interval, absl::Milliseconds(250),
          "How often an idle connection is probed (TIME, plus ROLE and the sentinels' view "
          "behind Sentinel).");
ABSL_FLAG(absl::Duration, redis_backoff_initial, absl::Milliseconds(50),
          "First reconnect delay (doubled per failed attempt, jittered).");
ABSL_FLAG(absl::Duration, redis_backoff_max, absl::Seconds(1), "Longest reconnect delay.");
ABSL_FLAG(int, redis_down_after, 2,
          "Consecutive failed Redis round trips (probes, reconnects, commands) before the store "
          "counts as unreachable (answers stale, writes refused).");
ABSL_FLAG(int, redis_up_after, 2,
          "Consecutive good Redis round trips before an unreachable store counts as back.");
ABSL_FLAG(int, redis_wait_replicas, -1,
          "Redis replicas that must acknowledge a tenant policy write (WAIT) before "
          "SetTenantPolicy/DeleteTenantPolicy succeed; fewer within --redis_wait_timeout "
          "answer UNAVAILABLE (STORE_WRITE_UNCONFIRMED). -1: 1 behind Sentinel, 0 otherwise.");
ABSL_FLAG(absl::Duration, redis_wait_timeout, absl::Milliseconds(500),
          "How long a tenant policy write waits for its replica acknowledgements.");
ABSL_FLAG(std::string, snapshot_file, "",
          "Local file holding the last fresh store state (health, tenant policies), rewritten "
          "atomically within 1 s of every change. When the store is unreachable at start, a "
          "valid file no older than --snapshot_max_age is served, marked stale, until the store "
          "is back. Empty: none (fail closed until the store is readable).");
ABSL_FLAG(absl::Duration, snapshot_max_age, absl::Minutes(10),
          "Oldest --snapshot_file a restarting replica serves.");
ABSL_FLAG(std::string, auth_token_file, "",
          "File holding the bearer token that ReportHealth and the admin RPCs require "
          "(surrounding white space trimmed). Empty: no token needed.");
ABSL_FLAG(bool, check_config, false,
          "Validate --config, print the policy report (allowed primaries and secondaries per "
          "region, which rule excluded what, per-tenant sets and the what-if of every region "
          "failing) and exit: 0 when valid, 1 on a config or tenants file error, 2 when a "
          "region has fewer compliant DCs than --min_compliant_dcs, 3 when --against is given "
          "and the config loosens compliance without acknowledging it.");
ABSL_FLAG(std::string, health_check, "",
          "Probe mode for orchestrators (exec probes; kubelet's gRPC probes cannot speak TLS): "
          "ask the server on 127.0.0.1:--grpc_port (over TLS when --tls_cert_file is set, "
          "without verifying the certificate; with --tls_require_client_cert presenting "
          "--tls_cert_file/--tls_key_file as the client certificate) for grpc.health.v1 status "
          "and exit 0 when it is SERVING, 1 otherwise. `ready`: the whole server (\"\", "
          "SERVING once the first snapshot is built); `live`: the process (service "
          "\"dcdir.liveness\").");
ABSL_FLAG(std::string, against, "",
          "With --check_config: the config served now (the old file). Prints, per region, the "
          "(client, DC) pairs the new --config allows that the old one denies and the reverse, "
          "and by which rule; exits 3 on a loosening the new file does not acknowledge with "
          "`allow_loosening_from: <the old config_version>` (a live reload would refuse it).");
ABSL_FLAG(bool, json, false, "With --check_config: print the report as one JSON document.");
ABSL_FLAG(int, min_compliant_dcs, 1,
          "With --check_config: the fewest compliant DCs every region's clients (and every "
          "tenant's clients in its home region) must have; fewer exits 2.");
ABSL_FLAG(std::string, tenants_file, "",
          "With --check_config: tenant policies to check as well (YAML or JSON: "
          "`tenants: [{tenant_id, home_region, allowed_regions}]`, e.g. the output of "
          "`dcdirctl tenant list --json`). The policies stored in Redis are not read by the "
          "check.");
ABSL_FLAG(std::string, audit_log, "",
          "Audit trail of cross-border fallback decisions, one JSON line per distinct decision "
          "per --audit_window: a file (appended to), or - for standard output. Empty: off.");
ABSL_FLAG(absl::Duration, audit_window, absl::Seconds(10),
          "Aggregation window of the audit log: identical decisions become one line with a "
          "count.");
ABSL_FLAG(int, audit_max_entries, 1000,
          "Distinct decisions kept per audit window; more are dropped and counted in "
          "dcdir_audit_dropped_total (the request path never waits for the log).");
ABSL_FLAG(absl::Duration, config_poll_interval, absl::Seconds(1),
          "How often the config file is checked for changes.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM: how long in-flight calls may take to finish.");
ABSL_FLAG(absl::Duration, shutdown_delay, absl::ZeroDuration(),
          "On SIGTERM: how long to keep answering every call while the health service already "
          "says NOT_SERVING (so load balancers stop sending new calls) before the drain starts.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of the gRPC port; with --tls_key_file turns TLS on. Re-read "
          "every --tls_refresh_interval, so a renewed certificate needs no restart.");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key for --tls_cert_file (a key that does not match it is a start "
          "error). Never logged.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle for client certificates (mTLS). A client certificate is requested and "
          "verified, but not required unless --tls_require_client_cert; a verified one "
          "authenticates ReportHealth for the DCs its SANs name (URI dcdir://dc/<id> or DNS "
          "<id>.dc.dcdir) and the admin RPCs (URI dcdir://admin).");
ABSL_FLAG(bool, tls_require_client_cert, false,
          "With --tls_client_ca_file: the TLS handshake refuses every client without a "
          "certificate from that CA, on the whole gRPC port (apps included: GetDirectory then "
          "needs a client certificate too). Off: clients without a certificate are served.");
ABSL_FLAG(absl::Duration, tls_refresh_interval, absl::Seconds(60),
          "How often the TLS files are checked for changes.");
ABSL_FLAG(int, max_watch_streams, 10000,
          "Most WatchDirectory streams open at once; more get RESOURCE_EXHAUSTED "
          "(TOO_MANY_WATCHES). 0: no limit.");
ABSL_FLAG(int, max_watch_streams_per_peer, 1000,
          "Most WatchDirectory streams open at once from one client address (IP, port "
          "ignored); more get RESOURCE_EXHAUSTED (TOO_MANY_WATCHES_FROM_PEER). Behind a proxy "
          "or NAT that hides the clients' addresses, raise it or set 0 (no limit).");
ABSL_FLAG(int, max_concurrent_streams_per_connection, 1000,
          "Most concurrent calls on one client connection (HTTP/2 MAX_CONCURRENT_STREAMS).");
ABSL_FLAG(double, health_reports_per_second_per_dc, 20,
          "ReportHealth calls allowed per DC per second (burst --health_report_burst_per_dc); "
          "more get RESOURCE_EXHAUSTED (RATE_LIMITED). 0: no limit.");
ABSL_FLAG(double, health_report_burst_per_dc, 40, "Burst of ReportHealth calls per DC.");
ABSL_FLAG(int, max_connections, -1,
          "Most concurrent connections on the gRPC port; more are accepted and closed at once "
          "(counted in dcdir_grpc_connections_refused_total{reason=\"limit\"}). -1: the "
          "descriptor limit minus a reserve of min(1024, limit/4) for the store, files and "
          "/metrics. 0: no cap.");
ABSL_FLAG(int, max_connections_per_peer, 1024,
          "Most concurrent connections from one client address (reason=\"peer_limit\"). Raise it "
          "(or 0: no cap) when every client comes through a few proxies.");
ABSL_FLAG(absl::Duration, max_connection_idle, absl::Minutes(5),
          "Close a gRPC connection that has had no call for this long (0: never).");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Hours(1),
          "Ask a client to reconnect after this long (GOAWAY; 0: never); its calls get "
          "--max_connection_age_grace to finish, then watch streams reconnect.");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(5),
          "How long calls may run on a connection after its maximum age.");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "A new connection must finish its TLS and HTTP/2 handshake within this.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(2),
          "Ping a connection that has been quiet this long; close it when the ping is not "
          "answered within --keepalive_timeout (dead peers release their descriptors).");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20), "See --keepalive_time.");
ABSL_FLAG(absl::Duration, min_client_ping_interval, absl::Seconds(10),
          "Keepalive enforcement: a client pinging more often than this gets GOAWAY after two "
          "strikes.");
ABSL_FLAG(absl::Duration, listener_watchdog_period, absl::Seconds(5),
          "Every this long, check that the gRPC port's accept loop runs and that the server "
          "answers a health Check; after 3 failures in a row the process exits 1 so that an "
          "orchestrator restarts it. 0: no watchdog.");
ABSL_FLAG(std::string, geoip_db, "",
          "GeoIP database (MaxMind DB format, e.g. GeoLite2-City.mmdb or an @ip-location-db "
          ".mmdb): a request without client_location is located by its client's address, and "
          "one without client_country gets its country (a declared country always wins). "
          "Opened once at start; a missing or bad file is a start-up error. Empty: no GeoIP.");
ABSL_FLAG(std::string, trusted_proxies, "",
          "Comma-separated CIDRs of proxies (e.g. the ingress) whose x-forwarded-for / forwarded "
          "headers name the client for GeoIP; any other peer's headers are ignored.");
ABSL_FLAG(double, fallback_reports_per_second, 1000,
          "Server-wide limit of ReportFallback calls (RESOURCE_EXHAUSTED above).");
ABSL_FLAG(double, fallback_reports_per_second_per_peer, 20,
          "Limit of ReportFallback calls per client address (burst: twice this), checked before "
          "the server-wide one so that one address cannot use it up. The address is the peer's, "
          "or the one a --trusted_proxies proxy forwards when --geoip_db is set. 0: no per-peer "
          "limit.");

namespace {

using dcdir::util::LogLevel;

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value(absl::StripAsciiWhitespace(buffer.str()));
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " file ", path, " is empty"));
  }
  return value;
}

int CheckConfig(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const dcdir::core::Topology>> topology =
      dcdir::config::LoadTopologyFile(path);
  if (!topology.ok()) {
    std::cerr << "config error: " << topology.status().message() << "\n";
    return 1;
  }
  std::vector<dcdir::core::TenantPolicy> tenants;
  if (const std::string file = absl::GetFlag(FLAGS_tenants_file); !file.empty()) {
    auto loaded = dcdir::config::LoadTenantsFile(file, **topology);
    if (!loaded.ok()) {
      std::cerr << "tenants file error: " << loaded.status().message() << "\n";
      return 1;
    }
    tenants = *std::move(loaded);
  }
  const int min_dcs = absl::GetFlag(FLAGS_min_compliant_dcs);
  if (min_dcs < 0) {
    std::cerr << "--min_compliant_dcs must be >= 0\n";
    return 1;
  }
  std::optional<dcdir::config::ComplianceChange> change;
  std::shared_ptr<const dcdir::core::Topology> served;
  if (const std::string against = absl::GetFlag(FLAGS_against); !against.empty()) {
    absl::StatusOr<std::shared_ptr<const dcdir::core::Topology>> old_topology =
        dcdir::config::LoadTopologyFile(against);
    if (!old_topology.ok()) {
      std::cerr << "--against config error: " << old_topology.status().message() << "\n";
      return 1;
    }
    served = *std::move(old_topology);
    change = dcdir::config::CompareCompliance(*served, **topology);
  }
  const dcdir::config::ComplianceCheck check =
      dcdir::config::CheckCompliance(**topology, tenants, static_cast<uint32_t>(min_dcs));
  if (absl::GetFlag(FLAGS_json)) {
    std::string policy = dcdir::config::PolicyReportJson(**topology);
    while (!policy.empty() && policy.back() == '\n') policy.pop_back();
    std::cout << "{\"policy\":" << policy
              << ",\"compliance\":" << dcdir::config::ComplianceCheckJson(check);
    if (change.has_value()) {
      std::cout << ",\"against\":"
                << dcdir::config::ComplianceChangeJson(*served, **topology, *change);
    }
    std::cout << "}\n";
  } else {
    std::cout << dcdir::config::PolicyReport(**topology)
              << dcdir::config::ComplianceCheckText(check);
    if (change.has_value()) {
      std::cout << dcdir::config::ComplianceChangeText(*served, **topology, *change);
    }
  }
  if (change.has_value() && change->refused()) return 3;
  return check.shortfalls.empty() ? 0 : 2;
}

// Raises the soft descriptor limit to the hard one (a connection is a descriptor; the default
// soft limit is often far below the hard one). Returns the soft limit in force afterwards.
uint64_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  DCDIR_LOG(kInfo) << "descriptor limit " << limit.rlim_cur
                   << (limit.rlim_cur != before ? absl::StrCat(" (raised from ", before, ")")
                                                : std::string(" (the hard limit)"));
  return limit.rlim_cur == RLIM_INFINITY ? uint64_t{1} << 20 : limit.rlim_cur;
}

// --max_connections=-1: the descriptor limit minus a reserve for everything else.
size_t ConnectionsForDescriptors(uint64_t limit) {
  const uint64_t reserve = std::min<uint64_t>(1024, limit / 4);
  return static_cast<size_t>(std::max<uint64_t>(16, limit - reserve));
}

// --health_check: one grpc.health.v1 Check against this host's gRPC port (2 s deadline).
int HealthCheck(const std::string& mode) {
  std::string service;
  if (mode == "live") {
    service = dcdir::api::kLivenessService;
  } else if (mode != "ready") {
    std::cerr << "--health_check must be ready or live, got \"" << mode << "\"\n";
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!absl::GetFlag(FLAGS_tls_cert_file).empty()) {
    // A local probe of our own port: whether TLS and the server answer, not who we are.
    grpc::experimental::TlsChannelCredentialsOptions tls;
    tls.set_verify_server_certs(false);
    tls.set_check_call_host(false);
    tls.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (absl::GetFlag(FLAGS_tls_require_client_cert)) {
      // The port refuses clients without a certificate: present the server's own key pair
      // (it must be issued by --tls_client_ca_file's CA and allowed for client auth).
      const std::string key_file = absl::GetFlag(FLAGS_tls_key_file);
      if (key_file.empty()) {
        std::cerr << "--health_check with --tls_require_client_cert needs --tls_key_file\n";
        return 2;
      }
      tls.set_certificate_provider(
          std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
              key_file, absl::GetFlag(FLAGS_tls_cert_file), 60));
      tls.watch_identity_key_cert_pairs();
    }
    credentials = grpc::experimental::TlsCredentials(tls);
  }
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_grpc_port)),
                                     credentials);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  // HealthCheckRequest { string service = 1; }, encoded by hand (no generated code needed).
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back('\x0a');
    request_bytes.push_back(static_cast<char>(service.size()));
    request_bytes += service;
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) {
    std::cerr << "health check failed: " << status.error_message() << "\n";
    return 1;
  }
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse { ServingStatus status = 1; }: SERVING is 1.
  const bool serving = bytes.size() == 2 && bytes[0] == '\x08' && bytes[1] == '\x01';
  std::cout << (serving ? "SERVING" : "NOT_SERVING") << "\n";
  return serving ? 0 : 1;
}

int Fatal(const std::string& message) {
  DCDIR_LOG(kError) << message;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "dcdir-server: the data-center directory.\n"
      "  dcdir-server --config=deploy/config/world.yaml [--redis=redis://127.0.0.1:6379]");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {  // --version prints it and exits 0
    return absl::StrCat("dcdir-server ", dcdir::kVersion, "\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built in debug mode, where every absl::Mutex (gRPC's locks) also keeps a
  // lock-order graph for deadlock detection: ~3% of a request's instructions. Release builds of
  // Abseil do not track it; neither do we.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string config_path = absl::GetFlag(FLAGS_config);
  if (absl::GetFlag(FLAGS_check_config)) return CheckConfig(config_path);
  if (const std::string mode = absl::GetFlag(FLAGS_health_check); !mode.empty()) {
    return HealthCheck(mode);
  }

  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const uint64_t descriptor_limit = RaiseDescriptorLimit();
  auto topology = dcdir::config::LoadTopologyFile(config_path);
  if (!topology.ok()) return Fatal(absl::StrCat("config error: ", topology.status().message()));

  dcdir::api::ServerOptions options;
  options.listen_address =
      absl::StrCat(absl::GetFlag(FLAGS_grpc_host), ":", absl::GetFlag(FLAGS_grpc_port));
  options.fallback_reports_per_second = absl::GetFlag(FLAGS_fallback_reports_per_second);
  options.fallback_reports_per_second_per_peer =
      absl::GetFlag(FLAGS_fallback_reports_per_second_per_peer);
  options.max_watch_streams =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_watch_streams)));
  options.state.resync_interval = absl::GetFlag(FLAGS_resync_interval);
  options.state.full_resync_interval = absl::GetFlag(FLAGS_full_resync_interval);
  if (options.state.resync_interval <= absl::ZeroDuration() ||
      options.state.full_resync_interval <= absl::ZeroDuration()) {
    return Fatal("--resync_interval and --full_resync_interval must be > 0");
  }
  options.max_watch_streams_per_peer =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_watch_streams_per_peer)));
  options.max_concurrent_streams_per_connection =
      absl::GetFlag(FLAGS_max_concurrent_streams_per_connection);
  const int max_connections = absl::GetFlag(FLAGS_max_connections);
  options.max_connections = max_connections >= 0
                                ? static_cast<size_t>(max_connections)
                                : ConnectionsForDescriptors(descriptor_limit);
  options.max_connections_per_peer =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_connections_per_peer)));
  options.max_connection_idle = absl::GetFlag(FLAGS_max_connection_idle);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.min_client_ping_interval = absl::GetFlag(FLAGS_min_client_ping_interval);
  options.watchdog_period = absl::GetFlag(FLAGS_listener_watchdog_period);
  options.on_listener_dead = [](const std::string& why) {
    DCDIR_LOG(kError) << why << "; exiting so that the orchestrator restarts the process";
    std::_Exit(1);
  };
  options.health_reports_per_second_per_dc =
      absl::GetFlag(FLAGS_health_reports_per_second_per_dc);
  options.health_report_burst_per_dc = absl::GetFlag(FLAGS_health_report_burst_per_dc);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.tls.require_client_cert = absl::GetFlag(FLAGS_tls_require_client_cert);
  options.tls.refresh_seconds = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::GetFlag(FLAGS_tls_refresh_interval))));
  if (options.tls.cert_file.empty() != options.tls.key_file.empty()) {
    return Fatal("--tls_cert_file and --tls_key_file go together");
  }
  if (options.tls.cert_file.empty() && !options.tls.client_ca_file.empty()) {
    return Fatal("--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
  }
  if (options.tls.require_client_cert && options.tls.client_ca_file.empty()) {
    return Fatal("--tls_require_client_cert needs --tls_client_ca_file");
  }
  if (const std::string token_file = absl::GetFlag(FLAGS_auth_token_file); !token_file.empty()) {
    auto token = ReadSecretFile(token_file, "auth token");
    if (!token.ok()) return Fatal(std::string(token.status().message()));
    options.auth_token = *std::move(token);
  }

  std::unique_ptr<dcdir::geoip::ClientLocator> locator;
  {
    auto trusted = dcdir::geoip::ParseCidrList(absl::GetFlag(FLAGS_trusted_proxies));
    if (!trusted.ok()) return Fatal(absl::StrCat("--trusted_proxies: ", trusted.status().message()));
    if (const std::string path = absl::GetFlag(FLAGS_geoip_db); !path.empty()) {
      auto db = dcdir::geoip::GeoIpDatabase::Open(path);
      if (!db.ok()) return Fatal(std::string(db.status().message()));
      DCDIR_LOG(kInfo) << "geoip: " << path << " (" << (*db)->description() << "), "
                       << trusted->size() << " trusted proxy network(s)";
      locator = std::make_unique<dcdir::geoip::ClientLocator>(*std::move(db), *std::move(trusted));
      options.geoip = locator.get();
    } else if (!trusted->empty()) {
      return Fatal("--trusted_proxies needs --geoip_db (the forwarded address is only used for GeoIP)");
    }
  }

  std::unique_ptr<dcdir::store::Store> store;
  if (const std::string redis = absl::GetFlag(FLAGS_redis); redis.empty()) {
    store = std::make_unique<dcdir::store::InMemoryStore>();
    DCDIR_LOG(kInfo) << "store: embedded in-memory (single replica)";
  } else {
    auto password = dcdir::store::LoadRedisPassword(absl::GetFlag(FLAGS_redis_password_file));
    if (!password.ok()) return Fatal(std::string(password.status().message()));
    dcdir::store::RedisStore::Options redis_options;
    redis_options.url = redis;
    redis_options.password = *std::move(password);
    redis_options.key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
    redis_options.op_timeout = absl::GetFlag(FLAGS_redis_op_timeout);
    redis_options.connect_timeout = absl::GetFlag(FLAGS_redis_connect_timeout);
    redis_options.probe_interval = absl::GetFlag(FLAGS_redis_probe_interval);
    redis_options.backoff_initial = absl::GetFlag(FLAGS_redis_backoff_initial);
    redis_options.backoff_max = absl::GetFlag(FLAGS_redis_backoff_max);
    redis_options.down_after = absl::GetFlag(FLAGS_redis_down_after);
    redis_options.up_after = absl::GetFlag(FLAGS_redis_up_after);
    redis_options.wait_timeout = absl::GetFlag(FLAGS_redis_wait_timeout);
    const int wait_replicas = absl::GetFlag(FLAGS_redis_wait_replicas);
    if (wait_replicas < -1) return Fatal("--redis_wait_replicas must be >= -1");
    redis_options.wait_replicas =
        wait_replicas >= 0 ? wait_replicas : (absl::StartsWith(redis, "redis+sentinel://") ? 1 : 0);
    auto redis_store = dcdir::store::RedisStore::Create(std::move(redis_options));
    if (!redis_store.ok()) return Fatal(std::string(redis_store.status().message()));
    store = *std::move(redis_store);
    DCDIR_LOG(kInfo) << "store: redis (" << (store->Available() ? "reachable" : "not reachable yet")
                     << ")";
  }

  dcdir::core::RealClock clock;
  options.snapshot_file = absl::GetFlag(FLAGS_snapshot_file);
  options.snapshot_max_age = absl::GetFlag(FLAGS_snapshot_max_age);
  if (options.snapshot_max_age <= absl::ZeroDuration()) return Fatal("--snapshot_max_age must be > 0");
  std::unique_ptr<dcdir::audit::FileAuditWriter> audit_writer;
  std::unique_ptr<dcdir::audit::AuditLog> audit;
  if (const std::string audit_path = absl::GetFlag(FLAGS_audit_log); !audit_path.empty()) {
    auto writer = dcdir::audit::FileAuditWriter::Open(audit_path);
    if (!writer.ok()) return Fatal(std::string(writer.status().message()));
    audit_writer = *std::move(writer);
    dcdir::audit::AuditLogOptions audit_options;
    audit_options.window = absl::GetFlag(FLAGS_audit_window);
    if (audit_options.window <= absl::ZeroDuration()) return Fatal("--audit_window must be > 0");
    audit_options.max_entries =
        static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_audit_max_entries)));
    audit = std::make_unique<dcdir::audit::AuditLog>(&clock, audit_writer.get(), audit_options);
    audit->Start();
    options.audit = audit.get();
    DCDIR_LOG(kInfo) << "audit log: " << audit_path << ", window "
                     << absl::FormatDuration(audit_options.window);
  }
  auto server = dcdir::api::DcdirServer::Start(*topology, store.get(), &clock, options);
  if (!server.ok()) return Fatal(std::string(server.status().message()));
  DCDIR_LOG(kInfo) << "dcdir-server listening on " << absl::GetFlag(FLAGS_grpc_host) << ":"
                   << (*server)->port() << (options.tls.cert_file.empty() ? " (plaintext)" : " (TLS)")
                   << (options.tls.client_ca_file.empty() ? ""
                       : options.tls.require_client_cert
                           ? " requiring client certificates"
                           : " with client certificates (optional)")
                   << ", config version " << (*topology)->world().version << ", at most "
                   << (options.max_connections == 0 ? std::string("unlimited")
                                                    : absl::StrCat(options.max_connections))
                   << " connections ("
                   << (options.max_connections_per_peer == 0
                           ? std::string("unlimited")
                           : absl::StrCat(options.max_connections_per_peer))
                   << " per client address)";
  if (!options.auth_token.empty() && options.tls.cert_file.empty()) {
    DCDIR_LOG(kWarning) << "a bearer token is configured but the gRPC port is plaintext: the "
                           "token crosses the network in clear text; set --tls_cert_file and "
                           "--tls_key_file (docs/SECURITY.md)";
  }

  std::unique_ptr<dcdir::metrics::MetricsHttpServer> metrics_http;
  if (const int metrics_port = absl::GetFlag(FLAGS_metrics_port); metrics_port > 0) {
    std::vector<std::weak_ptr<prometheus::Collectable>> collectables = {(*server)->registry()};
    if (audit != nullptr) collectables.push_back(audit->registry());
    dcdir::metrics::MetricsHttpOptions metrics_options;
    metrics_options.host = absl::GetFlag(FLAGS_metrics_host);
    metrics_options.port = metrics_port;
    auto started = dcdir::metrics::MetricsHttpServer::Start(metrics_options, std::move(collectables));
    if (!started.ok()) {
      return Fatal(absl::StrCat("cannot serve metrics: ", started.status().message()));
    }
    metrics_http = *std::move(started);
    DCDIR_LOG(kInfo) << "metrics on " << metrics_options.host << ":" << metrics_http->port()
                     << "/metrics";
  }

  dcdir::api::DcdirServer* raw = server->get();
  dcdir::config::ConfigWatcher watcher(
      config_path, (*topology)->world().version,
      [raw](absl::StatusOr<std::shared_ptr<const dcdir::core::Topology>> next) {
        raw->ApplyConfig(next);
      });
  watcher.Start(absl::GetFlag(FLAGS_config_poll_interval));

  int signal = 0;
  sigwait(&stop_signals, &signal);
  const absl::Duration delay = absl::GetFlag(FLAGS_shutdown_delay);
  DCDIR_LOG(kInfo) << "signal " << signal << ": NOT_SERVING, draining in "
                   << absl::FormatDuration(delay);
  (*server)->StopServing();
  absl::SleepFor(delay);
  watcher.Stop();
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  if (audit != nullptr) audit->Stop();  // writes the last, partial window
  DCDIR_LOG(kInfo) << "stopped";
  return 0;
}
