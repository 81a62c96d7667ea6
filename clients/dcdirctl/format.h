#ifndef DCDIR_CLIENTS_DCDIRCTL_FORMAT_H_
#define DCDIR_CLIENTS_DCDIRCTL_FORMAT_H_

// How dcdirctl prints answers: tables for people, one-line JSON (the proto JSON mapping with the
// proto field names) for scripts.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "dcdir/v1/admin.pb.h"
#include "dcdir/v1/directory.pb.h"
#include "dcdir/v1/reporting.pb.h"
#include "google/protobuf/message.h"

namespace dcdir::ctl {

// One line of JSON (proto field names, every field printed, enums by name) plus '\n'.
std::string ToJson(const google::protobuf::Message& message);

// "2026-01-02T03:04:05Z"; "-" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

// "HEALTHY", "DOWN", ...
std::string StatusName(v1::HealthStatus status);

std::string FormatDirectory(const v1::Directory& directory);
std::string FormatExplanation(const v1::DirectoryExplanation& explanation);
std::string FormatHealthReport(const v1::HealthReport& request,
                               const v1::ReportHealthResponse& response);
std::string FormatTenantPolicy(const v1::TenantPolicy& policy);
// `tenant list`: a table (TENANT, HOME, ALLOWED, UNKNOWN, UPDATED) under a count line.
std::string FormatTenantPolicies(const std::vector<v1::TenantPolicy>& policies);
// `tenant list --json`: one line `{"tenants":[<TenantPolicy as ToJson>...]}` plus '\n', the
// format of `dcdir-server --check_config --tenants_file` (which ignores the output-only fields).
std::string TenantPoliciesJson(const std::vector<v1::TenantPolicy>& policies);
std::string FormatDataCenters(const v1::ListDataCentersResponse& response);

}  // namespace dcdir::ctl

#endif  // DCDIR_CLIENTS_DCDIRCTL_FORMAT_H_
