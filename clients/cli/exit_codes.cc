#include "clients/cli/exit_codes.h"

#include <cstdlib>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/errors.h"
#include "grpc/support/log.h"

namespace dcdir::cli {

using client::ErrorReason;

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    default:
      return kExitRejected;
  }
}

namespace {

// Why no server answered, from gRPC's transport message (there is no reason token: no dcdir
// server got the call). "" when nothing points at TLS.
std::string TlsHint(const std::string& message, const Connection& c) {
  const std::string m = absl::AsciiStrToLower(message);
  const bool handshake = absl::StrContains(m, "handshake") || absl::StrContains(m, "ssl") ||
                         absl::StrContains(m, "tls");
  // The server closed the connection: a plaintext HTTP/2 client talking to a TLS port sees it
  // while it waits for the server's settings frame; with TLS 1.3 a client without the
  // certificate a server requires finishes its side of the handshake and then sees it too.
  const bool closed = absl::StrContains(m, "socket closed") ||
                      absl::StrContains(m, "connection reset") ||
                      absl::StrContains(m, "end of file") || absl::StrContains(m, "goaway");
  if (!c.tls) {
    if (closed) {
      return absl::StrCat("the server at ", c.server,
                          " closed the connection: if it serves TLS (--tls_cert_file), pass "
                          "--tls_ca_file CA.pem (or --tls for the system's roots)");
    }
    return "";
  }
  if (!handshake && !closed) return "";
  if (absl::StrContains(m, "wrong_version_number") || absl::StrContains(m, "wrong version") ||
      absl::StrContains(m, "packet_length_too_long") || absl::StrContains(m, "record layer")) {
    return absl::StrCat("the TLS handshake with ", c.server,
                        " failed: the server does not speak TLS; drop --tls, --tls_ca_file and "
                        "--tls_cert_file");
  }
  if (absl::StrContains(m, "certificate verify failed") ||
      absl::StrContains(m, "certificate_verify_failed") ||
      absl::StrContains(m, "unknown ca") || absl::StrContains(m, "self-signed") ||
      absl::StrContains(m, "self signed") || absl::StrContains(m, "expired") ||
      absl::StrContains(m, "peer name") || absl::StrContains(m, "hostname") ||
      absl::StrContains(m, "subject alternative")) {
    return absl::StrCat("the TLS handshake with ", c.server,
                        " failed: the server's certificate is not trusted (not signed by "
                        "--tls_ca_file, expired, or not issued for this host name)");
  }
  if (!c.client_cert) {
    return absl::StrCat("the TLS handshake with ", c.server,
                        " failed: the server may require a client certificate "
                        "(--tls_require_client_cert): pass --tls_cert_file and --tls_key_file");
  }
  return absl::StrCat("the TLS handshake with ", c.server,
                      " failed: the server refused the client certificate (not signed by its "
                      "--tls_client_ca_file, or expired), or its own certificate is not trusted "
                      "by --tls_ca_file");
}

// What to do about each reason token the server sends: one entry per token of its catalogue
// (service/api/reasons.h, listed in docs/CONTRACT.md), none for anything else. The docs check
// (tests/docs/check_docs.py, ctest docs_check) fails when a token lacks an entry or an entry
// names no token. MISSING_CREDENTIALS also depends on the message (HintFor).
struct ReasonHint {
  std::string_view reason;
  std::string_view hint;
};
constexpr ReasonHint kReasonHints[] = {
    // Request validation.
    {"INVALID_COUNTRY", "pass --country with a two-letter ISO code, e.g. --country US"},
    {"INVALID_TENANT_ID", "--tenant takes 1 to 64 of the characters [A-Za-z0-9._-]"},
    {"INVALID_CLIENT_ID", "--client_id takes at most 128 bytes"},
    {"UNPARSABLE_REQUEST",
     "the server could not parse the request (a string that is not UTF-8?): check the values "
     "given to the flags"},
    {"INVALID_MAX_SECONDARIES", "--max_secondaries takes 0 (no cap) to 64"},
    {"INVALID_LOCATION",
     "--location takes LAT,LON in degrees: latitude in [-90, 90], longitude in [-180, 180]"},
    {"INVALID_SUBDIVISION",
     "--subdivision takes an ISO 3166-2 code of the client's country, e.g. --subdivision US-WA"},
    {"INVALID_OBSERVED_RTTS",
     "--rtt takes DC=MS, one per DC id, MS in (0, 10000], at most 32 of them"},
    {"INVALID_DATACENTER_ID", "--dc takes a DC id of the config (see `dcdirctl list`)"},
    {"INVALID_STATUS", "--status takes healthy, draining or down"},
    {"INVALID_CONGESTION", "--congestion takes a number in [0, 1]"},
    {"INVALID_TTL",
     "--ttl must be between 0 (the server's default) and the config's max_health_ttl"},
    {"INVALID_ATTEMPTS", "a fallback report counts at most 1000 attempts"},
    {"INVALID_ALLOWED_REGIONS",
     "--allowed_regions names more regions than the config has: name each region once (see "
     "`dcdirctl list`)"},
    {"UNKNOWN_REGION", "use a region id of the world config (see `dcdirctl list`)"},
    {"MISSING_POLICY", "set a policy with `dcdirctl tenant set --tenant T --home_region R`"},
    {"INVALID_PAGE_SIZE", "--page_size must be >= 0"},
    {"INVALID_PAGE_TOKEN", "list again from the first page"},
    {"UNKNOWN_DATACENTER", "see `dcdirctl list` for the DC ids of the config"},
    {"TENANT_NOT_FOUND", "set one with `dcdirctl tenant set --tenant T --home_region R`"},
    // The answer.
    {"COUNTRY_NOT_MAPPED",
     "map the country under `countries:` in the world config, or set `default_region`"},
    {"NO_COMPLIANT_DATACENTER",
     "the deny rules and the tenant's routing control allow no DC for this client: see "
     "`dcdirctl explain`"},
    {"NO_HEALTHY_COMPLIANT_DATACENTER",
     "no allowed DC is healthy: check `dcdirctl list` and the DC agents, or report health with "
     "`dcdirctl report-health`"},
    // Credentials.
    {"MISSING_CREDENTIALS",
     "this server needs a token: pass --token_file FILE (the server's --auth_token_file)"},
    {"INVALID_CREDENTIALS", "the token in --token_file is not the server's (--auth_token_file)"},
    {"DATACENTER_NOT_IN_CERTIFICATE",
     "the client certificate does not name this DC: report with a certificate whose SAN is URI "
     "dcdir://dc/<id> (or DNS <id>.dc.dcdir) for it, or with the token (--token_file)"},
    {"NOT_AN_ADMIN_CERTIFICATE",
     "admin RPCs (tenant, list) need a client certificate with the SAN URI dcdir://admin, or "
     "the token (--token_file); a DC reporter's certificate is not enough"},
    // Limits and availability.
    {"RATE_LIMITED", "retry later"},
    {"TOO_MANY_WATCHES", "close some watches, or use `dcdirctl get`; retry later with backoff"},
    {"TOO_MANY_WATCHES_FROM_PEER",
     "close some watches, or use `dcdirctl get`; retry later with backoff"},
    {"NOT_READY", "the server is starting; retry in a moment"},
    {"STORE_UNAVAILABLE", "the shared store (Redis) is unreachable; retry later"},
    {"STORE_WRITE_UNCONFIRMED",
     "the write reached the Redis master but too few replicas confirmed it: read it back "
     "(`dcdirctl tenant get`) or repeat it"},
    // A store or runtime status with no more specific token.
    {"NOT_FOUND", "the server found nothing under this id: check it (`dcdirctl list`)"},
    {"INVALID_ARGUMENT", "the server's store refused a value: the message says which"},
    {"INTERNAL",
     "a fault inside the server (its log has the details): retry, and report it if "
     "it persists"},
};

}  // namespace

std::string HintFor(const absl::Status& status, const Connection& c) {
  const std::string reason = ErrorReason(status);
  const std::string message(status.message());
  if (client::IsTransportFailure(status)) {
    if (std::string tls = TlsHint(message, c); !tls.empty()) return tls;
    if (absl::IsDeadlineExceeded(status)) {
      // The deadline passed: a connection may be up and the server slow (overloaded, stalled
      // on its store), or the packets may be dropped on the way; a refused connection would
      // have been UNAVAILABLE at once.
      std::string within = "in time";
      if (!c.timeout_flag.empty()) {
        within = absl::StrCat("within ", c.timeout_flag, " ", absl::FormatDuration(c.timeout));
      }
      return absl::StrCat("no answer from ", c.server, " ", within,
                          ": the server is slow or stalled (overloaded, waiting for its store), "
                          "or the network drops the packets; retry",
                          c.timeout_flag.empty() ? "" : absl::StrCat(", or raise ", c.timeout_flag));
    }
    return absl::StrCat("is dcdir-server running at ", c.server,
                        "? Check --server HOST:PORT (or $DCDIR_SERVER) and the network");
  }
  if (reason == "MISSING_CREDENTIALS") {
    // The server's message says which credentials it takes (service/api/service_context.cc);
    // a token alone is kReasonHints' entry.
    const bool takes_token = absl::StrContains(message, "authorization");
    const bool takes_cert = absl::StrContains(message, "client certificate");
    if (takes_cert && !takes_token) {
      return c.tls ? "this server takes only client certificates (mTLS, no token): pass "
                     "--tls_cert_file and --tls_key_file with a certificate from its "
                     "--tls_client_ca_file"
                   : "this server takes only client certificates (mTLS, no token): connect with "
                     "TLS (--tls_ca_file) and pass --tls_cert_file and --tls_key_file";
    }
    if (takes_cert) {
      return "this server needs a token or a client certificate: pass --token_file FILE (the "
             "server's --auth_token_file), or --tls_cert_file and --tls_key_file";
    }
  }
  for (const ReasonHint& h : kReasonHints) {
    if (h.reason == reason) return std::string(h.hint);
  }
  if (absl::IsPermissionDenied(status)) {
    return "the server knows who you are but does not allow this call (docs/SECURITY.md)";
  }
  return "";
}

std::string DescribeError(const absl::Status& status, const Connection& connection) {
  const std::string reason = ErrorReason(status);
  std::string out = client::CodeName(status.code());
  if (!reason.empty()) absl::StrAppend(&out, " (", reason, ")");
  absl::StrAppend(&out, ": ", status.message());
  if (std::string hint = HintFor(status, connection); !hint.empty()) {
    absl::StrAppend(&out, "\nhint: ", hint);
  }
  return out;
}

namespace {
void DropLog(gpr_log_func_args*) {}
}  // namespace

void QuietGrpcLogs() {
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  if (verbosity == nullptr || *verbosity == '\0') gpr_set_log_function(DropLog);
}

}  // namespace dcdir::cli
