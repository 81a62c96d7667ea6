#include "service/config/what_if.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "service/core/snapshot.h"
#include "service/util/json.h"
#include "yaml-cpp/yaml.h"

namespace dcdir::config {
namespace {

using util::AppendJsonString;
using util::AppendJsonStrings;

constexpr absl::string_view kUnmappedText = "any country without a mapping";
constexpr size_t kMaxTenantIdBytes = 64;  // the API's limit (service/api/validation.h)

// ---------------------------------------------------------------------------------------------
// Tenants file.

absl::Status TenantError(absl::string_view file, const YAML::Node& node, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, ":", node.Mark().line + 1, ": ", what));
}

bool ValidTenantId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxTenantIdBytes) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

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

// ---------------------------------------------------------------------------------------------
// Output.

std::string GroupName(const ServedGroup& g) {
  std::string s = absl::StrJoin(g.countries, " ");
  if (g.unmapped) absl::StrAppend(&s, s.empty() ? "" : " + ", kUnmappedText);
  return s;
}

std::string ListOrNone(const std::vector<std::string>& v, absl::string_view sep = " ") {
  return v.empty() ? "(none)" : absl::StrJoin(v, sep);
}

void AppendScenarioLines(std::string* out, absl::string_view prefix,
                         const FailureScenario& scenario) {
  for (const ClientRegionOutcome& client : scenario.clients) {
    for (const ServedGroup& g : client.groups) {
      std::string who = client.region;
      if (client.groups.size() > 1) absl::StrAppend(&who, " (", GroupName(g), ")");
      absl::StrAppend(out, prefix, "if ", scenario.failed_region, " fails: ", who, " → ");
      if (g.error != core::AnswerError::kNone) {
        absl::StrAppend(out, "no compliant DC (fail closed)\n");
        continue;
      }
      std::vector<std::string> all = g.primaries;
      all.insert(all.end(), g.secondaries.begin(), g.secondaries.end());
      absl::StrAppend(out, absl::StrJoin(all, ", "));
      if (g.fallback) {
        absl::StrAppend(out, " (fallback", g.cross_border.empty() ? "" : "; cross-border: ",
                        absl::StrJoin(g.cross_border, " "), ")");
      }
      out->push_back('\n');
    }
  }
}

void AppendCompliantLines(std::string* out, absl::string_view indent,
                          const std::vector<CompliantSet>& sets) {
  size_t width = 0;
  for (const CompliantSet& s : sets) width = std::max(width, s.client_region.size());
  for (const CompliantSet& s : sets) {
    absl::StrAppend(out, indent,
                    absl::StrFormat("%-*s  %2d compliant DCs; primaries: %s; secondaries: %s\n",
                                    static_cast<int>(width) + 1, s.client_region + ":",
                                    static_cast<int>(s.datacenters.size()),
                                    ListOrNone(s.primaries), ListOrNone(s.secondaries)));
  }
}



void AppendCompliantJson(std::string* out, const std::vector<CompliantSet>& sets) {
  out->push_back('[');
  for (size_t i = 0; i < sets.size(); ++i) {
    const CompliantSet& s = sets[i];
    if (i > 0) out->push_back(',');
    out->append("{\"client_region\":");
    AppendJsonString(out, s.client_region);
    absl::StrAppend(out, ",\"compliant_dcs\":", s.datacenters.size(), ",\"primaries\":");
    AppendJsonStrings(out, s.primaries);
    out->append(",\"secondaries\":");
    AppendJsonStrings(out, s.secondaries);
    out->append(",\"datacenters\":");
    AppendJsonStrings(out, s.datacenters);
    out->push_back('}');
  }
  out->push_back(']');
}

void AppendScenariosJson(std::string* out, const std::vector<FailureScenario>& scenarios) {
  out->push_back('[');
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const FailureScenario& s = scenarios[i];
    if (i > 0) out->push_back(',');
    out->append("{\"failed_region\":");
    AppendJsonString(out, s.failed_region);
    out->append(",\"down\":");
    AppendJsonStrings(out, s.down);
    out->append(",\"fail_closed\":");
    AppendJsonStrings(out, s.fail_closed);
    out->append(",\"clients\":[");
    for (size_t c = 0; c < s.clients.size(); ++c) {
      const ClientRegionOutcome& client = s.clients[c];
      if (c > 0) out->push_back(',');
      out->append("{\"client_region\":");
      AppendJsonString(out, client.region);
      absl::StrAppend(out, ",\"fail_closed\":", client.fail_closed ? "true" : "false",
                      ",\"groups\":[");
      for (size_t g = 0; g < client.groups.size(); ++g) {
        const ServedGroup& group = client.groups[g];
        if (g > 0) out->push_back(',');
        out->append("{\"countries\":");
        AppendJsonStrings(out, group.countries);
        absl::StrAppend(out, ",\"unmapped_countries\":", group.unmapped ? "true" : "false",
                        ",\"error\":");
        if (group.error == core::AnswerError::kNone) {
          out->append("null");
        } else {
          const std::string_view token = core::ReasonToken(group.error);
          AppendJsonString(out, token);
        }
        out->append(",\"primaries\":");
        AppendJsonStrings(out, group.primaries);
        out->append(",\"secondaries\":");
        AppendJsonStrings(out, group.secondaries);
        absl::StrAppend(out, ",\"fallback\":", group.fallback ? "true" : "false",
                        ",\"cross_border\":");
        AppendJsonStrings(out, group.cross_border);
        out->push_back('}');
      }
      out->append("]}");
    }
    out->append("]}");
  }
  out->push_back(']');
}

}  // namespace

absl::StatusOr<std::vector<core::TenantPolicy>> ParseTenants(absl::string_view text,
                                                             absl::string_view file_name,
                                                             const core::Topology& topology) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ": not valid YAML/JSON: ", e.msg));
  }
  std::vector<core::TenantPolicy> out;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap() || !root["tenants"]) {
    return TenantError(file_name, root, "expected a map with a `tenants` list");
  }
  const YAML::Node list = root["tenants"];
  if (list.IsNull()) return out;
  if (!list.IsSequence()) return TenantError(file_name, list, "`tenants` must be a list");
  absl::flat_hash_set<std::string> seen;
  try {
    for (const YAML::Node& item : list) {
      if (!item.IsMap()) return TenantError(file_name, item, "a tenant must be a map");
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        // update_time and unknown_regions are TenantPolicy's output-only fields: present in
        // what `dcdirctl tenant list --json` prints, checked for shape and ignored.
        if (key == "update_time") {
          if (!kv.second.IsScalar()) {
            return TenantError(file_name, kv.second, "update_time must be a timestamp string");
          }
          continue;
        }
        if (key == "unknown_regions") {
          if (!kv.second.IsNull() && !kv.second.IsSequence()) {
            return TenantError(file_name, kv.second, "unknown_regions must be a list");
          }
          continue;
        }
        if (key != "tenant_id" && key != "home_region" && key != "allowed_regions") {
          return TenantError(file_name, kv.first, absl::StrCat("unknown tenant field `", key,
                                                               "` (tenant_id, home_region, "
                                                               "allowed_regions; output-only "
                                                               "update_time, unknown_regions)"));
        }
      }
      core::TenantPolicy policy;
      const YAML::Node id = item["tenant_id"];
      if (!id || !id.IsScalar()) return TenantError(file_name, item, "tenant_id is required");
      policy.tenant_id = id.as<std::string>();
      if (!ValidTenantId(policy.tenant_id)) {
        return TenantError(file_name, id,
                           absl::StrCat("tenant_id `", policy.tenant_id,
                                        "` must be 1-64 of [A-Za-z0-9._-]"));
      }
      if (!seen.insert(policy.tenant_id).second) {
        return TenantError(file_name, id,
                           absl::StrCat("tenant `", policy.tenant_id, "` is listed twice"));
      }
      const YAML::Node home = item["home_region"];
      if (!home || !home.IsScalar()) {
        return TenantError(file_name, item,
                           absl::StrCat("tenant `", policy.tenant_id, "`: home_region is required"));
      }
      policy.home_region = home.as<std::string>();
      const YAML::Node allowed = item["allowed_regions"];
      if (allowed && !allowed.IsNull()) {
        if (!allowed.IsSequence()) {
          return TenantError(file_name, allowed, "allowed_regions must be a list");
        }
        for (const YAML::Node& r : allowed) {
          const std::string region = r.as<std::string>();
          if (std::find(policy.allowed_regions.begin(), policy.allowed_regions.end(), region) ==
              policy.allowed_regions.end()) {
            policy.allowed_regions.push_back(region);
          }
        }
      }
      out.push_back(std::move(policy));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ": ", e.msg));
  }
  return out;
}

absl::StatusOr<std::vector<core::TenantPolicy>> LoadTenantsFile(const std::string& path,
                                                                const core::Topology& topology) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the tenants file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseTenants(buffer.str(), path, topology);
}

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

std::string ComplianceCheckText(const ComplianceCheck& check) {
  std::string out = "\ncompliance check\n";
  absl::StrAppend(&out, "compliant DCs per client region (deny rules; top-ups included), minimum ",
                  check.min_compliant_dcs, ":\n");
  AppendCompliantLines(&out, "  ", check.regions);
  for (const TenantFacts& t : check.tenants) {
    absl::StrAppend(&out, "\ntenant ", t.policy.tenant_id, " (home ", t.policy.home_region,
                    ", allowed ", ListOrNone(t.policy.allowed_regions), "):\n");
    if (t.home_unknown) {
      absl::StrAppend(&out, "  home region ", t.policy.home_region,
                      " does not exist in this config: the tenant's clients are refused every "
                      "DC (fail closed)\n");
    }
    for (const std::string& region : t.unknown_regions) {
      if (t.home_unknown && region == t.policy.home_region) continue;
      absl::StrAppend(&out, "  allowed region ", region,
                      " does not exist in this config: ignored\n");
    }
    AppendCompliantLines(&out, "  ", t.regions);
  }

  absl::StrAppend(&out,
                  "\nwhat if every DC of one region fails (all other DCs HEALTHY, not "
                  "congested); DCs in the order a client tries them:\n");
  for (const FailureScenario& s : check.scenarios) AppendScenarioLines(&out, "", s);
  for (const TenantFacts& t : check.tenants) {
    absl::StrAppend(&out, "\nwhat if, for tenant ", t.policy.tenant_id, ":\n");
    for (const FailureScenario& s : t.scenarios) {
      AppendScenarioLines(&out, absl::StrCat("tenant ", t.policy.tenant_id, ": "), s);
    }
  }

  absl::StrAppend(&out, "\nleft with no compliant DC (fail closed):\n");
  for (const FailureScenario& s : check.scenarios) {
    absl::StrAppend(&out, "  if ", s.failed_region, " fails: ", ListOrNone(s.fail_closed), "\n");
  }
  for (const TenantFacts& t : check.tenants) {
    for (const FailureScenario& s : t.scenarios) {
      absl::StrAppend(&out, "  tenant ", t.policy.tenant_id, ": if ", s.failed_region,
                      " fails: ", ListOrNone(s.fail_closed), "\n");
    }
  }

  if (check.shortfalls.empty()) {
    absl::StrAppend(&out, "\nOK: every client region has at least ", check.min_compliant_dcs,
                    " compliant DC(s)\n");
  } else {
    out.append("\n");
    for (const Shortfall& s : check.shortfalls) {
      absl::StrAppend(&out, "BELOW MINIMUM: ",
                      s.tenant.empty() ? "" : absl::StrCat("tenant ", s.tenant, ", "),
                      "client region ", s.client_region, " has ", s.compliant,
                      " compliant DC(s), minimum ", check.min_compliant_dcs, "\n");
    }
  }
  return out;
}

std::string ComplianceCheckJson(const ComplianceCheck& check) {
  std::string out = "{\"config_version\":";
  AppendJsonString(&out, check.config_version);
  absl::StrAppend(&out, ",\"min_compliant_dcs\":", check.min_compliant_dcs,
                  ",\"ok\":", check.shortfalls.empty() ? "true" : "false", ",\"regions\":");
  AppendCompliantJson(&out, check.regions);
  out.append(",\"what_if\":");
  AppendScenariosJson(&out, check.scenarios);
  out.append(",\"tenants\":[");
  for (size_t i = 0; i < check.tenants.size(); ++i) {
    const TenantFacts& t = check.tenants[i];
    if (i > 0) out.push_back(',');
    out.append("{\"tenant_id\":");
    AppendJsonString(&out, t.policy.tenant_id);
    out.append(",\"home_region\":");
    AppendJsonString(&out, t.policy.home_region);
    out.append(",\"allowed_regions\":");
    AppendJsonStrings(&out, t.policy.allowed_regions);
    out.append(",\"unknown_regions\":");
    AppendJsonStrings(&out, t.unknown_regions);
    absl::StrAppend(&out, ",\"home_region_exists\":", t.home_unknown ? "false" : "true");
    out.append(",\"regions\":");
    AppendCompliantJson(&out, t.regions);
    out.append(",\"what_if\":");
    AppendScenariosJson(&out, t.scenarios);
    out.push_back('}');
  }
  out.append("],\"shortfalls\":[");
  for (size_t i = 0; i < check.shortfalls.size(); ++i) {
    const Shortfall& s = check.shortfalls[i];
    if (i > 0) out.push_back(',');
    out.append("{\"tenant\":");
    if (s.tenant.empty()) {
      out.append("null");
    } else {
      AppendJsonString(&out, s.tenant);
    }
    out.append(",\"client_region\":");
    AppendJsonString(&out, s.client_region);
    absl::StrAppend(&out, ",\"compliant_dcs\":", s.compliant, "}");
  }
  out.append("]}");
  return out;
}

}  // namespace dcdir::config
