#include "clients/cli/exit_codes.h"

#include "absl/strings/str_cat.h"
#include "clients/cpp/errors.h"

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

std::string HintFor(const absl::Status& status, const std::string& server) {
  const std::string reason = ErrorReason(status);
  if (client::IsTransportFailure(status)) {
    return absl::StrCat("is dcdir-server running at ", server,
                        "? Check --server HOST:PORT and the network");
  }
  if (reason == "INVALID_COUNTRY") return "pass --country with a two-letter ISO code, e.g. --country US";
  if (reason == "COUNTRY_NOT_MAPPED") {
    return "map the country under `countries:` in the world config, or set `default_region`";
  }
  if (reason == "NO_HEALTHY_COMPLIANT_DATACENTER") {
    return "no allowed DC is healthy: check `dcdirctl list` and the DC agents, or report health "
           "with `dcdirctl report-health`";
  }
  if (reason == "NO_COMPLIANT_DATACENTER") {
    return "the deny rules and the tenant's routing control allow no DC for this client: see "
           "`dcdirctl explain`";
  }
  if (reason == "UNKNOWN_DATACENTER") return "see `dcdirctl list` for the DC ids of the config";
  if (reason == "TENANT_NOT_FOUND") {
    return "set one with `dcdirctl tenant set --tenant T --home_region R`";
  }
  if (reason == "UNKNOWN_REGION") return "use a region id of the world config (see `dcdirctl list`)";
  if (reason == "MISSING_CREDENTIALS") {
    return "this server needs a token: pass --token_file FILE (the server's --auth_token_file)";
  }
  if (reason == "INVALID_CREDENTIALS") {
    return "the token in --token_file is not the server's (--auth_token_file)";
  }
  if (reason == "NOT_READY") return "the server is starting; retry in a moment";
  if (reason == "STORE_UNAVAILABLE") return "the shared store (Redis) is unreachable; retry later";
  if (reason == "RATE_LIMITED") return "retry later";
  if (reason == "TOO_MANY_WATCHES" || reason == "TOO_MANY_WATCHES_FROM_PEER") {
    return "close some watches, or use `dcdirctl get`; retry later with backoff";
  }
  return "";
}

std::string DescribeError(const absl::Status& status, const std::string& server) {
  const std::string reason = ErrorReason(status);
  std::string out = client::CodeName(status.code());
  if (!reason.empty()) absl::StrAppend(&out, " (", reason, ")");
  absl::StrAppend(&out, ": ", status.message());
  if (std::string hint = HintFor(status, server); !hint.empty()) {
    absl::StrAppend(&out, "\nhint: ", hint);
  }
  return out;
}

}  // namespace dcdir::cli
