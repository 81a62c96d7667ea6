#include "service/config/what_if.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/core/snapshot.h"

namespace dcdir::config {
namespace {

// ---------------------------------------------------------------------------------------------
// Client classes: the countries of a region whose answers may differ.

using Classes = std::vector<const core::ClientClass*>;

// Per region, its client classes by country (Topology::client_classes without the classes of
// subdivisions with their own region, which this check does not analyse).
std::vector<Classes> CountryClasses(const core::Topology& topology) {
  std::vector<Classes> out(topology.region_count());
  for (uint32_t r = 0; r < topology.region_count(); ++r) {
    for (const core::ClientClass* cls : topology.client_classes(r)) {
      if (cls->kind != core::ClientClassKind::kSubdivision) out[r].push_back(cls);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Analysis.

std::vector<std::string> Ids(const core::Topology& topology, const std::vector<uint32_t>& dcs) {
  std::vector<std::string> out;
  for (uint32_t d : dcs) out.push_back(topology.dc(d).id);
  return out;
}

CompliantSet Compliant(const core::Topology& topology, uint32_t region,
                       const Classes& classes, const core::DcSet* tenant) {
  core::DcSet allowed(topology.dc_count(), /*all=*/true);
  for (const core::ClientClass* c : classes) allowed &= c->allowed;
  if (tenant != nullptr) allowed &= *tenant;
  CompliantSet set;
  set.client_region = topology.region_config(region).id;
  for (uint32_t d : topology.region(region).primaries) {
    if (allowed.Contains(d)) set.primaries.push_back(topology.dc(d).id);
  }
  for (uint32_t d : topology.region(region).secondaries) {
    if (allowed.Contains(d)) set.secondaries.push_back(topology.dc(d).id);
  }
  for (uint32_t d = 0; d < topology.dc_count(); ++d) {
    if (allowed.Contains(d)) set.datacenters.push_back(topology.dc(d).id);
  }
  return set;
}

bool SameOutcome(const ServedGroup& a, const ServedGroup& b) {
  return a.error == b.error && a.primaries == b.primaries && a.secondaries == b.secondaries &&
         a.fallback == b.fallback && a.cross_border == b.cross_border;
}

FailureScenario RunScenario(const std::shared_ptr<const core::Topology>& topology,
                            std::shared_ptr<const core::TenantTable> tenants, uint32_t failed,
                            const std::vector<Classes>& classes,
                            absl::string_view tenant_id) {
  const core::Topology& topo = *topology;
  const absl::Time now = absl::FromUnixSeconds(0);
  core::HealthMap health;
  FailureScenario scenario;
  scenario.failed_region = topo.region_config(failed).id;
  for (uint32_t d = 0; d < topo.dc_count(); ++d) {
    const bool down = topo.dc_region()[d] == failed;
    if (down) scenario.down.push_back(topo.dc(d).id);
    core::HealthRecord record;
    record.status = down ? core::HealthStatus::kDown : core::HealthStatus::kHealthy;
    record.reported_at = now;
    record.expires_at = now + absl::Hours(1);
    health[topo.dc(d).id] = record;
  }
  auto snapshot = core::BuildSnapshot(topology, health, std::move(tenants), /*version=*/1, now,
                                      /*stale=*/false);
  for (uint32_t r = 0; r < topo.region_count(); ++r) {
    if (classes[r].empty()) continue;  // a region without clients
    ClientRegionOutcome outcome;
    outcome.region = topo.region_config(r).id;
    const std::vector<uint32_t>& config_primaries = topo.region(r).primaries;
    for (const core::ClientClass* c : classes[r]) {
      core::AnswerRequest request;
      request.country = c->country;
      request.client_class = c;
      request.tenant_id = std::string_view(tenant_id.data(), tenant_id.size());
      const core::Answer answer = core::ComputeAnswer(*snapshot, request);
      ServedGroup group;
      group.error = answer.error;
      std::vector<uint32_t> primaries;
      for (const core::Pick& p : answer.primaries) primaries.push_back(p.dc);
      std::sort(primaries.begin(), primaries.end(), [&](uint32_t a, uint32_t b) {
        return std::find(config_primaries.begin(), config_primaries.end(), a) <
               std::find(config_primaries.begin(), config_primaries.end(), b);
      });
      group.primaries = Ids(topo, primaries);
      for (const core::Pick& p : answer.secondaries) group.secondaries.push_back(topo.dc(p.dc).id);
      group.fallback = answer.error == core::AnswerError::kNone && answer.fallback_active;
      for (const auto* dcs : {&answer.cross_border_fallback_dcs, &answer.policy_cross_border_dcs}) {
        for (uint32_t d : *dcs) group.cross_border.push_back(topo.dc(d).id);
      }
      auto same = std::find_if(outcome.groups.begin(), outcome.groups.end(),
                               [&](const ServedGroup& g) { return SameOutcome(g, group); });
      if (same == outcome.groups.end()) {
        outcome.groups.push_back(std::move(group));
        same = outcome.groups.end() - 1;
      }
      if (c->kind == core::ClientClassKind::kAnyOtherCountry) {
        same->unmapped = true;
      } else {
        same->countries.push_back(c->country);
      }
    }
    for (const ServedGroup& g : outcome.groups) {
      outcome.fail_closed = outcome.fail_closed || g.error != core::AnswerError::kNone;
    }
    if (outcome.fail_closed) scenario.fail_closed.push_back(outcome.region);
    scenario.clients.push_back(std::move(outcome));
  }
  return scenario;
}

}  // namespace

ComplianceCheck CheckCompliance(const core::Topology& topology,
                                const std::vector<core::TenantPolicy>& tenants,
                                uint32_t min_compliant_dcs) {
  // A non-owning handle: the snapshots built here do not outlive this call.
  std::shared_ptr<const core::Topology> topo(std::shared_ptr<const core::Topology>(), &topology);
  const std::vector<Classes> classes = CountryClasses(topology);
  std::shared_ptr<const core::TenantTable> tenant_map = core::CompileTenants(topology, tenants);

  ComplianceCheck check;
  check.config_version = topology.world().version;
  check.min_compliant_dcs = min_compliant_dcs;
  for (uint32_t r = 0; r < topology.region_count(); ++r) {
    if (classes[r].empty()) continue;
    check.regions.push_back(Compliant(topology, r, classes[r], nullptr));
    if (check.regions.back().datacenters.size() < min_compliant_dcs) {
      check.shortfalls.push_back(
          {"", check.regions.back().client_region, check.regions.back().datacenters.size()});
    }
  }
  for (uint32_t r = 0; r < topology.region_count(); ++r) {
    check.scenarios.push_back(RunScenario(topo, tenant_map, r, classes, ""));
  }
  for (const core::TenantPolicy& policy : tenants) {
    TenantFacts facts;
    facts.policy = policy;
    const core::CompiledTenant* compiled = tenant_map->Find(policy.tenant_id);
    const core::DcSet* allowed = compiled != nullptr ? &compiled->allowed : nullptr;
    core::DcSet nothing(topology.dc_count());
    if (allowed == nullptr) allowed = &nothing;
    if (compiled != nullptr) {
      facts.unknown_regions = compiled->unknown_regions;
      facts.home_unknown = compiled->home_unknown();
      // An unknown home region fails closed: the tenant's clients have no compliant DC.
      if (facts.home_unknown && min_compliant_dcs > 0) {
        check.shortfalls.push_back({policy.tenant_id, policy.home_region, 0});
      }
    }
    for (uint32_t r = 0; r < topology.region_count(); ++r) {
      if (classes[r].empty()) continue;
      facts.regions.push_back(Compliant(topology, r, classes[r], allowed));
      if (facts.regions.back().client_region == policy.home_region &&
          facts.regions.back().datacenters.size() < min_compliant_dcs) {
        check.shortfalls.push_back({policy.tenant_id, policy.home_region,
                                    facts.regions.back().datacenters.size()});
      }
    }
    for (uint32_t r = 0; r < topology.region_count(); ++r) {
      facts.scenarios.push_back(RunScenario(topo, tenant_map, r, classes, policy.tenant_id));
    }
    check.tenants.push_back(std::move(facts));
  }
  return check;
}

}  // namespace dcdir::config
