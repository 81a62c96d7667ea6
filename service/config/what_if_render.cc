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

void WriteCompliant(util::JsonWriter& w, const std::vector<CompliantSet>& sets) {
  w.BeginArray();
  for (const CompliantSet& s : sets) {
    w.BeginObject()
        .Key("client_region").Value(s.client_region)
        .Key("compliant_dcs").Value(s.datacenters.size())
        .Key("primaries").Strings(s.primaries)
        .Key("secondaries").Strings(s.secondaries)
        .Key("datacenters").Strings(s.datacenters)
        .EndObject();
  }
  w.EndArray();
}

void WriteScenarios(util::JsonWriter& w, const std::vector<FailureScenario>& scenarios) {
  w.BeginArray();
  for (const FailureScenario& s : scenarios) {
    w.BeginObject()
        .Key("failed_region").Value(s.failed_region)
        .Key("down").Strings(s.down)
        .Key("fail_closed").Strings(s.fail_closed)
        .Key("clients").BeginArray();
    for (const ClientRegionOutcome& client : s.clients) {
      w.BeginObject()
          .Key("client_region").Value(client.region)
          .Key("fail_closed").Value(client.fail_closed)
          .Key("groups").BeginArray();
      for (const ServedGroup& group : client.groups) {
        w.BeginObject()
            .Key("countries").Strings(group.countries)
            .Key("unmapped_countries").Value(group.unmapped)
            .Key("error");
        if (group.error == core::AnswerError::kNone) {
          w.Null();
        } else {
          w.Value(core::ReasonToken(group.error));
        }
        w.Key("primaries").Strings(group.primaries)
            .Key("secondaries").Strings(group.secondaries)
            .Key("fallback").Value(group.fallback)
            .Key("cross_border").Strings(group.cross_border)
            .EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
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
  util::JsonWriter w;
  w.BeginObject()
      .Key("config_version").Value(check.config_version)
      .Key("min_compliant_dcs").Value(check.min_compliant_dcs)
      .Key("ok").Value(check.shortfalls.empty())
      .Key("regions");
  WriteCompliant(w, check.regions);
  w.Key("what_if");
  WriteScenarios(w, check.scenarios);
  w.Key("tenants").BeginArray();
  for (const TenantFacts& t : check.tenants) {
    w.BeginObject()
        .Key("tenant_id").Value(t.policy.tenant_id)
        .Key("home_region").Value(t.policy.home_region)
        .Key("allowed_regions").Strings(t.policy.allowed_regions)
        .Key("unknown_regions").Strings(t.unknown_regions)
        .Key("home_region_exists").Value(!t.home_unknown)
        .Key("regions");
    WriteCompliant(w, t.regions);
    w.Key("what_if");
    WriteScenarios(w, t.scenarios);
    w.EndObject();
  }
  w.EndArray().Key("shortfalls").BeginArray();
  for (const Shortfall& s : check.shortfalls) {
    w.BeginObject().Key("tenant");
    if (s.tenant.empty()) {
      w.Null();
    } else {
      w.Value(s.tenant);
    }
    w.Key("client_region").Value(s.client_region)
        .Key("compliant_dcs").Value(s.compliant)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace dcdir::config
