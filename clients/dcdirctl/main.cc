// dcdirctl: the operators' CLI for dcdir.
//
//   dcdirctl [--server HOST:PORT] [--token_file F] [--json] COMMAND [FLAGS]
//
// Exit codes: 0 ok, 1 usage, 2 rejected by the server (invalid, not found, ...),
// 3 unavailable (server unreachable, no healthy DC; retry later), 4 credentials.

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/source_address.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/args.h"
#include "clients/cli/connection.h"
#include "clients/cli/exit_codes.h"
#include "clients/cpp/errors.h"
#include "clients/dcdirctl/format.h"
#include "dcdir/client/version.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"

namespace {

using dcdir::cli::Args;
namespace v1 = dcdir::v1;

constexpr char kUsage[] = R"(dcdirctl: operate a dcdir directory.

usage: dcdirctl [--server HOST:PORT] [--token_file F] [--json] [--timeout 5s] COMMAND [FLAGS]
       TLS: [--tls] [--tls_ca_file CA.pem] [--tls_cert_file C.pem --tls_key_file K.pem]
       dcdirctl --version

commands:
  get --country CC [--tenant T] [--client_id K] [--max_secondaries N] [WHERE]
                    the directory answer: ranked primaries and secondaries (TRY = attempt order)
  watch --country CC [--tenant T] [--client_id K] [--count N] [WHERE]
                    print the answer, then every change (N answers, 0 = until interrupted)
  explain --country CC [--tenant T] [--client_id K] [WHERE]
                    every DC with its verdict, the reason and the client's estimated RTT
  WHERE (where the client is; --country may be left out with --subdivision, or with --from
  when the server has --geoip_db): --location LAT,LON, --subdivision CODE, --rtt DC=MS, --from ADDR
  report-health --dc ID --status healthy|draining|down [--congestion X] [--ttl 30s]
                    report a DC's health
  tenant set --tenant T --home_region R [--allowed_regions a,b]
  tenant get --tenant T
  tenant delete --tenant T
  tenant list [--page_size N]
                    tenants' data-routing control; `tenant list --json` prints the format of
                    `dcdir-server --check_config --tenants_file`
  list              every DC with its health
  report-health, tenant and list need credentials when the server has them: the bearer token
  (--token_file) or, with an mTLS server, a client certificate (--tls_cert_file/--tls_key_file).

flags:
)";

constexpr char kExitCodes[] = R"(
--json prints one JSON object per line (the proto JSON mapping with proto field names).
exit codes: 0 ok, 1 usage, 2 rejected by the server (invalid argument, not found, no compliant DC),
3 unavailable (server unreachable, TLS handshake failed, no healthy DC: retry later),
4 credentials (missing, wrong or not allowed: UNAUTHENTICATED, PERMISSION_DENIED).
)";

// Every flag dcdirctl accepts: the parser's table, the help and the defaults.
constexpr dcdir::cli::FlagSpec kFlags[] = {
    dcdir::cli::kServerFlag,
    {"token_file", "FILE", "",
     "bearer token (surrounding white space trimmed) for report-health, tenant and list, when "
     "the server has --auth_token_file"},
    {"json", "", "", "print JSON instead of tables"},
    {"timeout", "DURATION", "5s", "deadline of each call (watch has none)"},
    dcdir::cli::kTlsFlag,
    dcdir::cli::kTlsCaFileFlag,
    {"tls_cert_file", "C.pem", "",
     "client certificate for mTLS, with --tls_key_file (implies --tls)"},
    dcdir::cli::kTlsKeyFileFlag,
    {"country", "CC", "", "get/watch/explain: the client's ISO 3166-1 alpha-2 country"},
    {"tenant", "T", "",
     "get/watch/explain: the client's tenant; tenant set/get/delete: the tenant"},
    {"client_id", "K", "", "get/watch/explain: the client id (spreads equal primaries)"},
    {"max_secondaries", "N", "0", "get: at most N secondaries (0: no cap)"},
    {"count", "N", "0", "watch: stop after N answers (0: until interrupted)"},
    {"location", "LAT,LON", "", "WHERE: the client's coordinates in degrees (client_location)"},
    {"subdivision", "CODE", "",
     "WHERE: ISO 3166-2 subdivision, e.g. US-WA (client_subdivision)"},
    {"rtt", "DC=MS", "",
     "WHERE: a round trip the client measured to DC, in ms (observed_rtts, age 0; repeat or "
     "comma-separate for several DCs)"},
    {"from", "ADDR", "",
     "WHERE: connect from this local address (e.g. 127.0.1.5) so that the server's GeoIP "
     "locates the client by it; plaintext only"},
    {"dc", "ID", "", "report-health: the DC"},
    {"status", "S", "", "report-health: healthy, draining or down"},
    {"congestion", "X", "0", "report-health: congestion in [0, 1]"},
    {"ttl", "DURATION", "",
     "report-health: how long the report holds (default: the server's default_health_ttl)"},
    {"home_region", "R", "", "tenant set: the tenant's home region"},
    {"allowed_regions", "A,B", "", "tenant set: regions the tenant may also use"},
    {"page_size", "N", "0",
     "tenant list: policies per call (0: the server's default, 100; at most 1000); every page "
     "is printed"},
    {"help", "", "", "print this help"},
    {"version", "", "", "print the version"},
};

struct Ctl {
  Args args;
  dcdir::cli::ServerConnection server;
  bool json = false;
  absl::Duration timeout = absl::Seconds(5);
  std::shared_ptr<grpc::Channel> channel;

  void Prepare(grpc::ClientContext& context, bool streaming = false) const {
    if (streaming) {
      server.AddToken(context);
    } else {
      server.Prepare(context, timeout);
    }
  }

  int Fail(const absl::Status& status) const {
    if (json) {
      std::string reason = dcdir::client::ErrorReason(status);
      std::cerr << "{\"error\":{\"code\":\"" << dcdir::client::CodeName(status.code())
                << "\",\"reason\":\"" << reason << "\",\"message\":"
                << JsonString(std::string(status.message())) << ",\"hint\":"
                << JsonString(dcdir::cli::HintFor(status, server.connection)) << "}}\n";
    } else {
      std::cerr << "dcdirctl: " << dcdir::cli::DescribeError(status, server.connection) << "\n";
    }
    return dcdir::cli::ExitCodeFor(status);
  }

  static std::string JsonString(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += c;
          }
      }
    }
    return out + "\"";
  }

  void Print(const google::protobuf::Message& message, const std::string& text) const {
    std::cout << (json ? dcdir::ctl::ToJson(message) : text) << std::flush;
  }
};

int Usage(const std::string& problem) {
  std::cerr << "dcdirctl: " << problem << "\n(run `dcdirctl --help` for the commands)\n";
  return dcdir::cli::kExitUsage;
}

absl::StatusOr<v1::GetDirectoryRequest> DirectoryRequest(const Args& args) {
  if (!args.Has("country") && !args.Has("subdivision") && !args.Has("from")) {
    return absl::InvalidArgumentError(
        "--country CC is required, e.g. --country US (or --subdivision, or --from with a "
        "server that has --geoip_db)");
  }
  v1::GetDirectoryRequest request;
  request.set_client_country(args.Get("country"));
  request.set_client_subdivision(args.Get("subdivision"));
  if (args.Has("location")) {
    const std::vector<std::string> parts = absl::StrSplit(args.Get("location"), ',');
    double lat = 0, lon = 0;
    if (parts.size() != 2 || !absl::SimpleAtod(parts[0], &lat) || !absl::SimpleAtod(parts[1], &lon)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--location must be LAT,LON in degrees, e.g. --location 47.61,-122.33; got \"",
                       args.Get("location"), "\""));
    }
    request.mutable_client_location()->set_latitude(lat);
    request.mutable_client_location()->set_longitude(lon);
  }
  for (const std::string& rtt : args.GetList("rtt")) {
    const size_t eq = rtt.find('=');
    double ms = 0;
    if (eq == std::string::npos || eq == 0 || !absl::SimpleAtod(rtt.substr(eq + 1), &ms) ||
        !(ms >= 0) || ms > 1e7) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rtt must be DC=MS, e.g. --rtt us-sjc=23.5; got \"", rtt, "\""));
    }
    v1::ObservedRtt* o = request.add_observed_rtts();
    o->set_datacenter_id(rtt.substr(0, eq));
    const int64_t micros = static_cast<int64_t>(ms * 1000 + 0.5);
    o->mutable_rtt()->set_seconds(micros / 1'000'000);
    o->mutable_rtt()->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
    o->mutable_age();  // measured just now
  }
  request.set_tenant_id(args.Get("tenant"));
  request.set_client_id(args.Get("client_id"));
  auto max = args.GetInt("max_secondaries");
  if (!max.ok()) return max.status();
  if (*max < 0) return absl::InvalidArgumentError("--max_secondaries must be >= 0");
  request.set_max_secondaries(static_cast<uint32_t>(*max));
  return request;
}

int Get(const Ctl& ctl) {
  auto request = DirectoryRequest(ctl.args);
  if (!request.ok()) return Usage(std::string(request.status().message()));
  auto stub = v1::DirectoryService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context);
  v1::Directory response;
  grpc::Status s = stub->GetDirectory(&context, *request, &response);
  if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
  ctl.Print(response, dcdir::ctl::FormatDirectory(response));
  return 0;
}

int Watch(const Ctl& ctl) {
  auto request = DirectoryRequest(ctl.args);
  if (!request.ok()) return Usage(std::string(request.status().message()));
  auto count = ctl.args.GetInt("count");
  if (!count.ok()) return Usage(std::string(count.status().message()));
  auto stub = v1::DirectoryService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context, /*streaming=*/true);
  auto reader = stub->WatchDirectory(&context, *request);
  v1::Directory answer;
  int64_t seen = 0;
  while (reader->Read(&answer)) {
    if (!ctl.json && seen > 0) std::cout << "\n";
    ctl.Print(answer, dcdir::ctl::FormatDirectory(answer));
    if (++seen == *count) {
      context.TryCancel();
      reader->Finish();
      return 0;
    }
  }
  grpc::Status s = reader->Finish();
  if (s.ok()) {
    return ctl.Fail(absl::UnavailableError("the server ended the watch (shutting down?)"));
  }
  return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
}

int Explain(const Ctl& ctl) {
  auto request = DirectoryRequest(ctl.args);
  if (!request.ok()) return Usage(std::string(request.status().message()));
  auto stub = v1::DirectoryService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context);
  v1::DirectoryExplanation response;
  grpc::Status s = stub->ExplainDirectory(&context, *request, &response);
  if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
  ctl.Print(response, dcdir::ctl::FormatExplanation(response));
  return 0;
}

int ReportHealth(const Ctl& ctl) {
  const Args& args = ctl.args;
  if (!args.Has("dc")) return Usage("report-health needs --dc ID");
  v1::HealthReport report;
  report.set_datacenter_id(args.Get("dc"));
  const std::string status = absl::AsciiStrToLower(args.Get("status"));
  if (status == "healthy") {
    report.set_status(v1::HEALTH_STATUS_HEALTHY);
  } else if (status == "draining") {
    report.set_status(v1::HEALTH_STATUS_DRAINING);
  } else if (status == "down") {
    report.set_status(v1::HEALTH_STATUS_DOWN);
  } else {
    return Usage("report-health needs --status healthy|draining|down");
  }
  auto congestion = args.GetDouble("congestion");
  if (!congestion.ok()) return Usage(std::string(congestion.status().message()));
  report.set_congestion(*congestion);
  auto ttl = args.GetDuration("ttl", absl::ZeroDuration());
  if (!ttl.ok()) return Usage(std::string(ttl.status().message()));
  report.mutable_ttl()->set_seconds(absl::ToInt64Seconds(*ttl));
  report.mutable_ttl()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(*ttl - absl::Seconds(report.ttl().seconds()))));
  auto stub = v1::ReportingService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context);
  v1::ReportHealthResponse response;
  grpc::Status s = stub->ReportHealth(&context, report, &response);
  if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
  ctl.Print(response, dcdir::ctl::FormatHealthReport(report, response));
  return 0;
}

// tenant list: every page of ListTenantPolicies, printed together.
int TenantList(const Ctl& ctl) {
  auto page_size = ctl.args.GetInt("page_size");
  if (!page_size.ok()) return Usage(std::string(page_size.status().message()));
  if (*page_size < 0 || *page_size > 1000) return Usage("--page_size must be in [0, 1000]");
  auto stub = v1::AdminService::NewStub(ctl.channel);
  std::vector<v1::TenantPolicy> policies;
  v1::ListTenantPoliciesRequest request;
  request.set_page_size(static_cast<int32_t>(*page_size));
  do {
    grpc::ClientContext context;
    ctl.Prepare(context);
    v1::ListTenantPoliciesResponse response;
    grpc::Status s = stub->ListTenantPolicies(&context, request, &response);
    if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
    for (v1::TenantPolicy& p : *response.mutable_tenant_policies()) {
      policies.push_back(std::move(p));
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::cout << (ctl.json ? dcdir::ctl::TenantPoliciesJson(policies)
                         : dcdir::ctl::FormatTenantPolicies(policies))
            << std::flush;
  return 0;
}

int Tenant(const Ctl& ctl) {
  const Args& args = ctl.args;
  if (args.positional().size() != 2) {
    return Usage("use `tenant set|get|delete --tenant T` or `tenant list`");
  }
  const std::string& verb = args.positional()[1];
  if (verb == "list") return TenantList(ctl);
  if (!args.Has("tenant")) return Usage(absl::StrCat("tenant ", verb, " needs --tenant T"));
  auto stub = v1::AdminService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context);
  grpc::Status s;
  if (verb == "set") {
    if (!args.Has("home_region")) return Usage("tenant set needs --home_region R");
    v1::SetTenantPolicyRequest request;
    request.mutable_policy()->set_tenant_id(args.Get("tenant"));
    request.mutable_policy()->set_home_region(args.Get("home_region"));
    for (const std::string& r : args.GetList("allowed_regions")) {
      request.mutable_policy()->add_allowed_regions(r);
    }
    v1::TenantPolicy response;
    s = stub->SetTenantPolicy(&context, request, &response);
    if (s.ok()) ctl.Print(response, dcdir::ctl::FormatTenantPolicy(response));
  } else if (verb == "get") {
    v1::GetTenantPolicyRequest request;
    request.set_tenant_id(args.Get("tenant"));
    v1::TenantPolicy response;
    s = stub->GetTenantPolicy(&context, request, &response);
    if (s.ok()) ctl.Print(response, dcdir::ctl::FormatTenantPolicy(response));
  } else if (verb == "delete") {
    v1::DeleteTenantPolicyRequest request;
    request.set_tenant_id(args.Get("tenant"));
    v1::DeleteTenantPolicyResponse response;
    s = stub->DeleteTenantPolicy(&context, request, &response);
    if (s.ok()) {
      ctl.Print(response, absl::StrCat("deleted the policy of tenant ", args.Get("tenant"), "\n"));
    }
  } else {
    return Usage(
        absl::StrCat("unknown tenant command \"", verb, "\"; use set, get, delete or list"));
  }
  if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
  return 0;
}

int List(const Ctl& ctl) {
  auto stub = v1::AdminService::NewStub(ctl.channel);
  grpc::ClientContext context;
  ctl.Prepare(context);
  v1::ListDataCentersResponse response;
  grpc::Status s = stub->ListDataCenters(&context, v1::ListDataCentersRequest(), &response);
  if (!s.ok()) return ctl.Fail(dcdir::client::FromGrpcStatus(s, context));
  ctl.Print(response, dcdir::ctl::FormatDataCenters(response));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dcdir::cli::QuietGrpcLogs();
  auto args = Args::Parse(argc, argv, kFlags);
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->Has("help") || (!args->positional().empty() && args->positional()[0] == "help")) {
    std::cout << kUsage << dcdir::cli::FlagsHelp(kFlags) << kExitCodes;
    return 0;
  }
  if (args->Has("version")) {
    std::cout << "dcdirctl " << dcdir::kVersion << "\n";
    return 0;
  }
  if (args->positional().empty()) return Usage("no command given");
  Ctl ctl;
  ctl.args = *args;
  ctl.json = args->Has("json");
  auto timeout = args->GetDuration("timeout");
  if (!timeout.ok()) return Usage(std::string(timeout.status().message()));
  if (*timeout <= absl::ZeroDuration()) return Usage("--timeout must be > 0");
  ctl.timeout = *timeout;
  auto server = dcdir::cli::ServerConnection::FromFlags(*args);
  if (!server.ok()) return Usage(std::string(server.status().message()));
  ctl.server = *std::move(server);
  ctl.server.connection.timeout_flag = "--timeout";
  ctl.server.connection.timeout = ctl.timeout;
  if (args->Has("from")) {
    if (ctl.server.tls.enabled) return Usage("--from works only without TLS");
    auto channel =
        dcdir::client::ChannelFromAddress(ctl.server.server, args->Get("from"), ctl.timeout);
    if (!channel.ok()) return ctl.Fail(channel.status());
    ctl.channel = *std::move(channel);
  } else {
    ctl.channel = ctl.server.NewChannel();
  }

  const std::string& command = args->positional()[0];
  if (command != "tenant" && args->positional().size() > 1) {
    return Usage(absl::StrCat("unexpected argument \"", args->positional()[1], "\""));
  }
  if (command == "get") return Get(ctl);
  if (command == "watch") return Watch(ctl);
  if (command == "explain") return Explain(ctl);
  if (command == "report-health") return ReportHealth(ctl);
  if (command == "tenant") return Tenant(ctl);
  if (command == "list") return List(ctl);
  return Usage(absl::StrCat("unknown command \"", command, "\""));
}
