#include "service/config/what_if_render.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "service/util/json.h"

namespace dcdir::config {
namespace {

using util::AppendJsonString;
using util::AppendJsonStrings;

constexpr absl::string_view kUnmappedText = "any country without a mapping";

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
