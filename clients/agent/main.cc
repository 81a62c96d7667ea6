// dcdir-agent: reports DC health and congestion to dcdir on an interval.
//
//   dcdir-agent [--server HOST:PORT] [--token_file F] --config FILE (--dc ID ... | --simulate)
//
// Exit codes (with --once, or at startup): 0 ok, 1 usage, 2 rejected by the server,
// 3 unavailable, 4 credentials. Without --once it runs until SIGTERM/SIGINT (exit 0).

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/agent/congestion_source.h"
#include "clients/agent/probe.h"
#include "clients/agent/simulation.h"
#include "clients/agent/world_file.h"
#include "clients/cli/args.h"
#include "clients/cli/connection.h"
#include "clients/cli/exit_codes.h"
#include "clients/cpp/errors.h"
#include "dcdir/client/version.h"
#include "dcdir/v1/reporting.grpc.pb.h"

namespace {

using dcdir::agent::AgentDatacenter;
using dcdir::cli::Args;
namespace v1 = dcdir::v1;

constexpr char kUsage[] = R"(dcdir-agent: report DC health and congestion to dcdir.

usage: dcdir-agent [--server HOST:PORT] [--token_file F] --config FILE (--dc ID ... | --simulate)
                   [--probe tcp|grpc|none] [--interval 5s] [--ttl D] [--once] [--quiet]
       TLS: [--tls] [--tls_ca_file CA.pem] [--tls_cert_file C.pem --tls_key_file K.pem]
       (a client certificate may only report for the DCs its SANs name: dcdir://dc/<id>)
       dcdir-agent --version

Every --interval it reports each DC (--dc, or every DC of --config with --simulate) with
ReportHealth: HEALTHY when a probe of one of its endpoints succeeds, else DOWN, with the
congestion read from --congestion_file or --congestion_command (else 0).

flags:
)";

constexpr char kExitCodes[] = R"(
exit codes (with --once, or at start): 0 ok, 1 usage, 2 rejected by the server, 3 directory
unavailable (unreachable, TLS handshake failed), 4 credentials (missing, wrong or not allowed).
Without --once it runs until SIGTERM or SIGINT (exit 0).
)";

// Every flag dcdir-agent accepts: the parser's table, the help and the defaults.
constexpr dcdir::cli::FlagSpec kFlags[] = {
    dcdir::cli::kServerFlag,
    {"token_file", "FILE", "",
     "bearer token (surrounding white space trimmed), when the server has --auth_token_file"},
    dcdir::cli::kTlsFlag,
    dcdir::cli::kTlsCaFileFlag,
    {"tls_cert_file", "C.pem", "",
     "client certificate for mTLS, with --tls_key_file (implies --tls); it may report only for "
     "the DCs its SANs name"},
    dcdir::cli::kTlsKeyFileFlag,
    {"config", "FILE", "", "the world config (required): DC ids and endpoints"},
    {"dc", "ID[,ID...]", "", "DCs to report (repeatable); their endpoints come from --config"},
    {"simulate", "", "",
     "report for every DC of --config: slowly varying congestion (a random walk) and "
     "occasional short outages, instead of probes"},
    {"seed", "N", "1", "--simulate: the seed (same seed, same figures)"},
    {"outage_probability", "P", "0.02", "--simulate: chance per DC per round of going DOWN"},
    {"probe", "tcp|grpc|none", "tcp",
     "liveness: TCP connect, or grpc.health.v1 Check (SERVING), to each endpoint; HEALTHY when "
     "any answers, else DOWN; none: always HEALTHY"},
    {"endpoint", "HOST:PORT", "", "probe these endpoints instead of the config's (repeatable)"},
    {"probe_timeout", "DURATION", "1s", "per endpoint"},
    {"congestion_file", "FILE", "",
     "a file holding a number in [0, 1] (\"{dc}\" in the path is replaced by the DC id)"},
    {"congestion_command", "CMD", "",
     "a /bin/sh command printing a number in [0, 1] (env DCDIR_DC, \"{dc}\" replaced); a "
     "failing source keeps the last good value"},
    {"interval", "DURATION", "5s", "between rounds"},
    {"max_backoff", "DURATION", "60s",
     "while the directory is unreachable the wait doubles each round (jittered) up to this"},
    {"ttl", "DURATION", "", "report TTL (default: max(30s, 3 x --interval); 10m with --once)"},
    {"once", "", "",
     "report one round and exit with its exit code (no outage in the first simulated round)"},
    {"rpc_timeout", "DURATION", "3s", "deadline of each report"},
    {"quiet", "", "", "no line per accepted report on stdout"},
    {"help", "", "", "print this help"},
    {"version", "", "", "print the version"},
};

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int Usage(const std::string& problem) {
  std::cerr << "dcdir-agent: " << problem << "\n(run `dcdir-agent --help` for the flags)\n";
  return dcdir::cli::kExitUsage;
}

struct Observation {
  std::string dc_id;
  v1::HealthStatus status = v1::HEALTH_STATUS_HEALTHY;
  double congestion = 0;
  std::string why;  // probe failure, for the log
};

std::string StatusName(v1::HealthStatus s) {
  std::string name = v1::HealthStatus_Name(s);
  return name.substr(std::string("HEALTH_STATUS_").size());
}

// Sleeps up to `d`, waking early on SIGTERM/SIGINT. False when stopping.
bool SleepUnlessStopped(absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  while (!g_stop) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(std::min(left, absl::Milliseconds(100)));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  dcdir::cli::QuietGrpcLogs();
  auto parsed = Args::Parse(argc, argv, kFlags);
  if (!parsed.ok()) return Usage(std::string(parsed.status().message()));
  const Args& args = *parsed;
  if (args.Has("help")) {
    std::cout << kUsage << dcdir::cli::FlagsHelp(kFlags) << kExitCodes;
    return 0;
  }
  if (args.Has("version")) {
    std::cout << "dcdir-agent " << dcdir::kVersion << "\n";
    return 0;
  }
  if (!args.positional().empty()) {
    return Usage(absl::StrCat("unexpected argument \"", args.positional()[0], "\""));
  }
  if (!args.Has("config")) return Usage("--config FILE (the world config) is required");
  const bool simulate = args.Has("simulate");
  const bool once = args.Has("once");
  const bool quiet = args.Has("quiet");
  if (simulate == args.Has("dc")) return Usage("give either --dc ID ... or --simulate");
  if (args.Has("congestion_file") && args.Has("congestion_command")) {
    return Usage("give at most one of --congestion_file and --congestion_command");
  }
  auto interval = args.GetDuration("interval");
  auto probe_timeout = args.GetDuration("probe_timeout");
  auto max_backoff = args.GetDuration("max_backoff");
  auto rpc_timeout = args.GetDuration("rpc_timeout");
  auto seed = args.GetInt("seed");
  auto outage_probability = args.GetDouble("outage_probability");
  for (const absl::Status& s :
       {interval.status(), probe_timeout.status(), max_backoff.status(), rpc_timeout.status(),
        seed.status(), outage_probability.status()}) {
    if (!s.ok()) return Usage(std::string(s.message()));
  }
  if (*interval <= absl::ZeroDuration()) return Usage("--interval must be > 0");
  if (*rpc_timeout <= absl::ZeroDuration()) return Usage("--rpc_timeout must be > 0");
  if (*probe_timeout <= absl::ZeroDuration()) return Usage("--probe_timeout must be > 0");
  auto ttl = args.GetDuration(
      "ttl", once ? absl::Minutes(10) : std::max(absl::Seconds(30), *interval * 3));
  if (!ttl.ok()) return Usage(std::string(ttl.status().message()));
  const std::string probe = args.Get("probe");
  if (probe != "tcp" && probe != "grpc" && probe != "none") {
    return Usage("--probe must be tcp, grpc or none");
  }

  auto server = dcdir::cli::ServerConnection::FromFlags(args);
  if (!server.ok()) return Usage(std::string(server.status().message()));
  server->connection.timeout_flag = "--rpc_timeout";
  server->connection.timeout = *rpc_timeout;

  auto world = dcdir::agent::LoadDatacenters(args.Get("config"));
  if (!world.ok()) return Usage(std::string(world.status().message()));
  std::vector<AgentDatacenter> dcs;
  if (simulate) {
    dcs = *world;
  } else {
    for (const std::string& id : args.GetList("dc")) {
      auto it = std::find_if(world->begin(), world->end(),
                             [&](const AgentDatacenter& dc) { return dc.id == id; });
      if (it == world->end()) {
        std::vector<std::string> known;
        for (const auto& dc : *world) known.push_back(dc.id);
        return Usage(absl::StrCat("DC \"", id, "\" is not in ", args.Get("config"),
                                  "; known: ", absl::StrJoin(known, ",")));
      }
      dcs.push_back(*it);
    }
    const std::vector<std::string> overrides = args.GetList("endpoint");
    for (AgentDatacenter& dc : dcs) {
      if (!overrides.empty()) dc.endpoints = overrides;
      if (probe != "none" && dc.endpoints.empty()) {
        return Usage(absl::StrCat("DC ", dc.id,
                                  " has no endpoints to probe: pass --endpoint or --probe=none"));
      }
    }
  }

  std::vector<std::string> ids;
  for (const auto& dc : dcs) ids.push_back(dc.id);
  dcdir::agent::Simulator simulator(ids, static_cast<uint64_t>(*seed), *outage_probability);
  std::map<std::string, double> last_congestion;

  auto observe = [&]() {
    std::vector<Observation> out;
    if (simulate) {
      for (const auto& h : simulator.Next()) out.push_back({h.dc_id, h.status, h.congestion, ""});
      return out;
    }
    for (const AgentDatacenter& dc : dcs) {
      Observation o;
      o.dc_id = dc.id;
      if (probe != "none") {
        std::vector<std::string> failures;
        bool up = false;
        for (const std::string& endpoint : dc.endpoints) {
          absl::Status s = probe == "tcp" ? dcdir::agent::TcpProbe(endpoint, *probe_timeout)
                                          : dcdir::agent::GrpcHealthProbe(endpoint, *probe_timeout);
          if (s.ok()) {
            up = true;
            break;
          }
          failures.emplace_back(s.message());
        }
        if (!up) {
          o.status = v1::HEALTH_STATUS_DOWN;
          o.why = absl::StrJoin(failures, "; ");
        }
      }
      absl::StatusOr<double> congestion = last_congestion[dc.id];
      if (args.Has("congestion_file")) {
        congestion = dcdir::agent::ReadCongestionFile(args.Get("congestion_file"), dc.id);
      } else if (args.Has("congestion_command")) {
        congestion = dcdir::agent::RunCongestionCommand(args.Get("congestion_command"), dc.id);
      }
      if (congestion.ok()) {
        last_congestion[dc.id] = *congestion;
      } else {
        std::cerr << "dcdir-agent: WARNING: " << dc.id << ": " << congestion.status().message()
                  << "; keeping the last value " << last_congestion[dc.id] << "\n";
      }
      o.congestion = last_congestion[dc.id];
      out.push_back(std::move(o));
    }
    return out;
  };

  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout (`| head`) must not stop the reports
  auto stub = v1::ReportingService::NewStub(server->NewChannel());
  std::mt19937_64 jitter_rng(static_cast<uint64_t>(*seed) ^ 0x5eed);
  int unreachable_rounds = 0;

  while (!g_stop) {
    const absl::Time round_start = absl::Now();
    absl::Status first_error;
    bool unreachable = false;
    for (const Observation& o : observe()) {
      v1::HealthReport report;
      report.set_datacenter_id(o.dc_id);
      report.set_status(o.status);
      report.set_congestion(o.congestion);
      report.mutable_ttl()->set_seconds(absl::ToInt64Seconds(*ttl));
      grpc::ClientContext context;
      server->Prepare(context, *rpc_timeout);
      v1::ReportHealthResponse response;
      absl::Status s =
          dcdir::client::FromGrpcStatus(stub->ReportHealth(&context, report, &response), context);
      if (s.ok()) {
        if (!quiet) {
          char congestion[16];
          std::snprintf(congestion, sizeof(congestion), "%.2f", o.congestion);
          std::cout << "reported " << o.dc_id << " " << StatusName(o.status) << " congestion "
                    << congestion << " ttl " << absl::FormatDuration(*ttl)
                    << (response.congested() ? " (congested)" : "")
                    << (o.why.empty() ? "" : absl::StrCat(" (", o.why, ")")) << "\n"
                    << std::flush;
        }
        continue;
      }
      if (first_error.ok()) first_error = s;
      std::cerr << "dcdir-agent: report for " << o.dc_id << " failed: "
                << dcdir::cli::DescribeError(s, server->connection) << "\n";
      if (dcdir::client::IsTransportFailure(s)) {
        unreachable = true;
        break;  // the rest of the round would fail the same way
      }
    }
    if (once) return dcdir::cli::ExitCodeFor(first_error);
    absl::Duration wait = *interval;
    if (unreachable) {
      ++unreachable_rounds;
      for (int i = 0; i < unreachable_rounds && wait < *max_backoff; ++i) wait = wait * 2;
      wait = std::min(wait, *max_backoff);
      wait = wait * std::uniform_real_distribution<double>(0.5, 1.0)(jitter_rng);
      std::cerr << "dcdir-agent: the directory at " << server->server
                << " is unreachable; retrying in "
                << absl::FormatDuration(absl::Trunc(wait, absl::Milliseconds(1))) << "\n";
    } else {
      unreachable_rounds = 0;
      wait -= absl::Now() - round_start;
    }
    if (!SleepUnlessStopped(wait)) break;
  }
  return 0;
}
