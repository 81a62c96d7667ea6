#include "service/config/policy_report.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "service/util/json.h"

namespace dcdir::config {
namespace {

constexpr absl::string_view kUnmappedText = "any country without a mapping";

// Clients of one region whose rule outcome is identical.
struct ClientGroup {
  std::vector<std::string> countries;  // mapped (or rule-named unmapped) countries
  bool unmapped = false;               // also covers every other country without a mapping
  std::vector<int32_t> denying_rule;   // per DC: index into deny_rules, or -1
};

struct RegionFacts {
  const core::Region* region = nullptr;
  std::vector<std::string> client_countries;  // mapped to this region, file order
  bool is_default = false;
  std::vector<ClientGroup> groups;
  std::vector<std::string> primaries;    // allowed for every client group, config order
  std::vector<std::string> secondaries;  // same
  std::vector<std::string> denied_candidates;  // configured but denied for some client group
};

std::vector<RegionFacts> Analyse(const core::Topology& topology) {
  const core::World& world = topology.world();
  std::vector<RegionFacts> out;
  for (uint32_t r = 0; r < topology.region_count(); ++r) {
    RegionFacts facts;
    facts.region = &topology.region_config(r);
    facts.is_default =
        world.default_region.has_value() && *world.default_region == facts.region->id;
    // Clients by country: the classes of the region's own subdivisions are not reported here
    // (the loader's candidate check covers them).
    for (const core::ClientClass* cls : topology.client_classes(r)) {
      if (cls->kind == core::ClientClassKind::kSubdivision) continue;
      if (cls->kind == core::ClientClassKind::kMappedCountry) {
        facts.client_countries.push_back(cls->country);
      }
      auto same = std::find_if(facts.groups.begin(), facts.groups.end(), [&](const ClientGroup& g) {
        return g.denying_rule == cls->denying_rule;
      });
      if (same == facts.groups.end()) {
        facts.groups.push_back(ClientGroup{{}, false, cls->denying_rule});
        same = facts.groups.end() - 1;
      }
      if (cls->kind == core::ClientClassKind::kAnyOtherCountry) {
        same->unmapped = true;
      } else {
        same->countries.push_back(cls->country);
      }
    }
    auto allowed_for_all = [&](const std::string& dc_id) {
      uint32_t d = topology.DcIndex(dc_id);
      for (const ClientGroup& g : facts.groups)
        if (d == core::kNoIndex || g.denying_rule[d] >= 0) return false;
      return true;
    };
    for (const std::string& id : facts.region->primaries) {
      (allowed_for_all(id) ? facts.primaries : facts.denied_candidates).push_back(id);
    }
    for (const std::string& id : facts.region->secondaries) {
      (allowed_for_all(id) ? facts.secondaries : facts.denied_candidates).push_back(id);
    }
    out.push_back(std::move(facts));
  }
  return out;
}

std::string GroupName(const ClientGroup& g) {
  std::string s = absl::StrJoin(g.countries, " ");
  if (g.unmapped) absl::StrAppend(&s, s.empty() ? "" : " + ", kUnmappedText);
  return s;
}

std::string ListOrNone(const std::vector<std::string>& v) {
  return v.empty() ? "(none)" : absl::StrJoin(v, " ");
}

}  // namespace

std::string PolicyReport(const core::Topology& topology) {
  const core::World& world = topology.world();
  std::vector<RegionFacts> regions = Analyse(topology);

  std::vector<std::string> rule_names;
  for (const core::DenyRule& rule : world.deny_rules) rule_names.push_back(rule.name);
  std::string out = "dcdir policy report\n";
  absl::StrAppend(&out, "config version: ", world.version.empty() ? "(none)" : world.version,
                  "\n");
  absl::StrAppend(&out, "regions: ", topology.region_count(), ", datacenters: ",
                  topology.dc_count(), ", mapped countries: ", world.countries.size(), "\n");
  absl::StrAppend(&out, "default region: ", world.default_region.value_or("(none)"), "\n");
  absl::StrAppend(&out, "deny rules: ", ListOrNone(rule_names), "\n");
  if (!world.subdivisions.empty()) {
    absl::StrAppend(&out, "subdivisions:\n");
    for (const core::Subdivision& sub : world.subdivisions) {
      const uint32_t home = topology.Resolve(sub.code.substr(0, 2), sub.code).region;
      absl::StrAppend(&out, "  ", sub.code, " -> region ",
                      home == core::kNoIndex ? "(none)" : topology.region_config(home).id,
                      sub.region.has_value() ? " (its own: a client class of its own)"
                                             : " (its country's)");
      if (sub.point.has_value()) {
        absl::StrAppend(&out, absl::StrFormat(", point %.2f,%.2f", sub.point->lat, sub.point->lon));
      }
      absl::StrAppend(&out, "\n");
    }
  }

  int dc_width = static_cast<int>(absl::string_view("DATACENTER").size());
  int region_width = static_cast<int>(absl::string_view("REGION").size());
  for (uint32_t d = 0; d < topology.dc_count(); ++d) {
    dc_width = std::max(dc_width, static_cast<int>(topology.dc(d).id.size()));
    region_width = std::max(region_width, static_cast<int>(topology.dc(d).region.size()));
  }

  for (const RegionFacts& facts : regions) {
    const core::Region& region = *facts.region;
    absl::StrAppend(&out, "\nregion ", region.id, " (", region.name, ")",
                    facts.is_default ? " [default region]" : "", "\n");
    std::string clients = ListOrNone(facts.client_countries);
    if (facts.is_default) {
      clients = facts.client_countries.empty()
                    ? std::string(kUnmappedText)
                    : absl::StrCat(clients, " + ", kUnmappedText);
    }
    absl::StrAppend(&out, "  client countries: ", clients, "\n");
    absl::StrAppend(&out, "  primaries:        ", ListOrNone(facts.primaries), "\n");
    absl::StrAppend(&out, "  secondaries:      ", ListOrNone(facts.secondaries), "\n");
    if (!facts.denied_candidates.empty()) {
      absl::StrAppend(&out, "  DENIED CANDIDATES (configured but forbidden for some clients): ",
                      absl::StrJoin(facts.denied_candidates, " "), "\n");
    }
    if (facts.groups.empty()) {
      absl::StrAppend(&out, "  excluded: (no client countries)\n");
      continue;
    }
    for (const ClientGroup& g : facts.groups) {
      std::string header = facts.groups.size() == 1
                               ? std::string("  excluded for all its clients:")
                               : absl::StrCat("  excluded for ", GroupName(g), ":");
      bool any = false;
      for (int32_t rule : g.denying_rule) any = any || rule >= 0;
      if (!any) {
        absl::StrAppend(&out, header, " none\n");
        continue;
      }
      absl::StrAppend(&out, header, "\n");
      absl::StrAppend(&out, absl::StrFormat("    %-*s  %-*s  %-7s  %s\n", dc_width, "DATACENTER",
                                            region_width, "REGION", "COUNTRY", "RULE"));
      for (uint32_t d = 0; d < topology.dc_count(); ++d) {
        if (g.denying_rule[d] < 0) continue;
        const core::DataCenter& dc = topology.dc(d);
        absl::StrAppend(&out, absl::StrFormat("    %-*s  %-*s  %-7s  %s\n", dc_width, dc.id,
                                              region_width, dc.region, dc.country,
                                              world.deny_rules[g.denying_rule[d]].name));
      }
    }
  }
  return out;
}

std::string PolicyReportJson(const core::Topology& topology) {
  const core::World& world = topology.world();
  std::vector<RegionFacts> regions = Analyse(topology);
  std::vector<std::string> rule_names;
  for (const core::DenyRule& rule : world.deny_rules) rule_names.push_back(rule.name);
  util::JsonWriter w;
  w.BeginObject().Key("version").Value(world.version).Key("default_region");
  if (world.default_region.has_value()) {
    w.Value(*world.default_region);
  } else {
    w.Null();
  }
  w.Key("deny_rules").Strings(rule_names);
  // Only when the config has subdivisions (reports of configs without them are unchanged).
  if (!world.subdivisions.empty()) {
    w.Key("subdivisions").BeginArray();
    for (const core::Subdivision& sub : world.subdivisions) {
      const uint32_t home = topology.Resolve(sub.code.substr(0, 2), sub.code).region;
      w.BeginObject().Key("code").Value(sub.code).Key("region");
      if (home == core::kNoIndex) {
        w.Null();
      } else {
        w.Value(topology.region_config(home).id);
      }
      w.Key("own_region").Value(sub.region.has_value());
      if (sub.point.has_value()) {
        w.Key("point").BeginObject()
            .Key("lat").Fixed(sub.point->lat, 6)
            .Key("lon").Fixed(sub.point->lon, 6)
            .EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key("regions").BeginArray();
  for (const RegionFacts& facts : regions) {
    w.BeginObject()
        .Key("id").Value(facts.region->id)
        .Key("name").Value(facts.region->name)
        .Key("client_countries").Strings(facts.client_countries)
        .Key("unmapped_countries").Value(facts.is_default)
        .Key("primaries").Strings(facts.primaries)
        .Key("secondaries").Strings(facts.secondaries)
        .Key("denied_candidates").Strings(facts.denied_candidates)
        .Key("client_groups").BeginArray();
    for (const ClientGroup& group : facts.groups) {
      w.BeginObject()
          .Key("countries").Strings(group.countries)
          .Key("unmapped_countries").Value(group.unmapped)
          .Key("excluded").BeginArray();
      for (uint32_t d = 0; d < topology.dc_count(); ++d) {
        if (group.denying_rule[d] < 0) continue;
        const core::DataCenter& dc = topology.dc(d);
        w.BeginObject()
            .Key("datacenter").Value(dc.id)
            .Key("region").Value(dc.region)
            .Key("country").Value(dc.country)
            .Key("rule").Value(world.deny_rules[group.denying_rule[d]].name)
            .EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.Take() + "\n";
}

}  // namespace dcdir::config
