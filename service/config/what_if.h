#ifndef DCDIR_SERVICE_CONFIG_WHAT_IF_H_
#define DCDIR_SERVICE_CONFIG_WHAT_IF_H_

// The compliance check of `dcdir-server --check_config` beyond the policy report: how many
// DCs each region's clients (and each given tenant's) may ever be served from, and "what if
// every DC of region R fails" for every R, computed with the real answer logic
// (core::ComputeAnswer) on a snapshot where every DC is HEALTHY and not congested except R's,
// which are DOWN.
//
// A region's clients are its client classes by country (core::Topology::client_classes: its
// mapped countries and, for the default region, the unmapped countries rules name and any
// other country; the classes of subdivisions with their own region are not analysed), as in
// the policy report; countries whose outcome is identical are reported together.
//
// The tenants the check takes come from tenants_file.h; what_if_render.h turns the result
// into text or JSON.

#include <cstdint>
#include <string>
#include <vector>

#include "service/core/answer.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::config {

// Clients of one region that get the same outcome in one scenario.
struct ServedGroup {
  std::vector<std::string> countries;  // mapped (or rule-named unmapped) countries
  bool unmapped = false;               // also any other country without a mapping
  core::AnswerError error = core::AnswerError::kNone;  // kNone: served
  std::vector<std::string> primaries;    // config order
  std::vector<std::string> secondaries;  // answer order (what a client tries after primaries)
  bool fallback = false;                 // fallback_active
  std::vector<std::string> cross_border;  // cross-border DCs among the secondaries tried
};

struct ClientRegionOutcome {
  std::string region;
  std::vector<ServedGroup> groups;
  bool fail_closed = false;  // some group of it has no DC
};

struct FailureScenario {
  std::string failed_region;
  std::vector<std::string> down;  // the failed region's DCs
  std::vector<ClientRegionOutcome> clients;  // every region, config order
  std::vector<std::string> fail_closed;      // client regions (some of) whose clients get no DC
};

// What one client region may be served from under the deny rules (and a tenant's control).
struct CompliantSet {
  std::string client_region;
  std::vector<std::string> primaries;    // compliant configured primaries, config order
  std::vector<std::string> secondaries;  // compliant configured secondaries, config order
  std::vector<std::string> datacenters;  // every compliant DC of the topology (top-ups too)
};

struct TenantFacts {
  core::TenantPolicy policy;
  // Regions the policy names that the config does not define (home first when unknown), as a
  // stored policy becomes after a reload removed them; `home_unknown`: it fails closed.
  std::vector<std::string> unknown_regions;
  bool home_unknown = false;
  std::vector<CompliantSet> regions;        // every client region
  std::vector<FailureScenario> scenarios;   // one per failed region
};

// A region (or a tenant's home region) with fewer compliant DCs than the minimum.
struct Shortfall {
  std::string tenant;  // empty: no tenant
  std::string client_region;
  size_t compliant = 0;
};

struct ComplianceCheck {
  std::string config_version;
  uint32_t min_compliant_dcs = 1;
  std::vector<CompliantSet> regions;
  std::vector<FailureScenario> scenarios;  // one per failed region, config order
  std::vector<TenantFacts> tenants;
  std::vector<Shortfall> shortfalls;  // non-empty: the check fails (exit 2)
};

// Runs the analysis. The minimum applies to every region's clients and to each tenant's
// clients in its home region; a tenant whose home region `topology` does not define has 0.
ComplianceCheck CheckCompliance(const core::Topology& topology,
                                const std::vector<core::TenantPolicy>& tenants,
                                uint32_t min_compliant_dcs);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_WHAT_IF_H_
