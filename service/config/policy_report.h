#ifndef DCDIR_SERVICE_CONFIG_POLICY_REPORT_H_
#define DCDIR_SERVICE_CONFIG_POLICY_REPORT_H_

// What the deny rules mean for each region's clients, for `dcdir-server --check_config`.
//
// A region's clients are its client classes by country (core::Topology::client_classes: the
// countries mapped to it and, for the default region, every country without a mapping; the
// classes of subdivisions with their own region are not listed). Clients whose rule outcome
// is the same are reported together; when the countries of one region differ (a rule
// selecting by country), each group is listed apart.

#include <string>

#include "service/core/topology.h"

namespace dcdir::config {

// Plain-text report: per region its client countries, its allowed primaries and secondaries in
// configured order, and a table of every DC excluded for its clients with the rule excluding it.
std::string PolicyReport(const core::Topology& topology);

// The same facts as a JSON document (UTF-8, stable key order), for tools.
std::string PolicyReportJson(const core::Topology& topology);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_POLICY_REPORT_H_
