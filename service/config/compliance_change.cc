#include "service/config/compliance_change.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/util/json.h"

namespace dcdir::config {
namespace {

std::string ClientName(const std::string& client) {
  return client.empty() ? "any other country" : client;
}

// Pairs of one region and direction, grouped: (rule, DCs) -> clients, in first-seen order.
struct Group {
  std::string rule;
  std::vector<std::string> datacenters;
  std::vector<std::string> clients;
};

std::vector<Group> GroupPairs(const std::vector<core::PairChange>& pairs,
                              const std::string& region) {
  // client -> (rule -> DCs), keeping the input order (clients sorted, DCs in config order).
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>>>
      by_client;
  for (const core::PairChange& p : pairs) {
    if (p.region != region) continue;
    if (by_client.empty() || by_client.back().first != p.client) by_client.push_back({p.client, {}});
    auto& rules = by_client.back().second;
    auto it = rules.begin();
    while (it != rules.end() && it->first != p.rule) ++it;
    if (it == rules.end()) {
      rules.push_back({p.rule, {}});
      it = rules.end() - 1;
    }
    it->second.push_back(p.datacenter);
  }
  std::vector<Group> groups;
  for (const auto& [client, rules] : by_client) {
    for (const auto& [rule, dcs] : rules) {
      auto g = groups.begin();
      while (g != groups.end() && (g->rule != rule || g->datacenters != dcs)) ++g;
      if (g == groups.end()) {
        groups.push_back({rule, dcs, {}});
        g = groups.end() - 1;
      }
      g->clients.push_back(ClientName(client));
    }
  }
  return groups;
}

}  // namespace

ComplianceChange CompareCompliance(const core::Topology& served, const core::Topology& next) {
  ComplianceChange change;
  change.diff = core::DiffCompliance(served, next);
  change.acknowledged = !next.world().allow_loosening_from.empty() &&
                        next.world().allow_loosening_from == served.world().version;
  return change;
}

std::string LooseningSummary(const core::Topology& served, const core::Topology& next,
                             const ComplianceChange& change, size_t max_pairs) {
  const std::vector<core::PairChange>& pairs = change.diff.loosened;
  std::vector<std::string> shown;
  for (size_t i = 0; i < pairs.size() && i < max_pairs; ++i) {
    shown.push_back(absl::StrCat(ClientName(pairs[i].client), " -> ", pairs[i].datacenter,
                                 " (rule ", pairs[i].rule, " ",
                                 core::RuleFate(served, next, pairs[i].rule), ")"));
  }
  std::string out = absl::StrCat(
      "the new config (version ", next.world().version, ") allows ", pairs.size(),
      " (client, DC) pair", pairs.size() == 1 ? "" : "s", " that the served config (version ",
      served.world().version, ") denies: ", absl::StrJoin(shown, ", "),
      pairs.size() > shown.size() ? absl::StrCat(", and ", pairs.size() - shown.size(), " more")
                                  : "");
  if (!next.world().allow_loosening_from.empty() && !change.acknowledged) {
    absl::StrAppend(&out, "; its allow_loosening_from names ", next.world().allow_loosening_from,
                    ", not the served version");
  }
  absl::StrAppend(&out, "; to apply it on purpose, add \"allow_loosening_from: ",
                  served.world().version, "\" to the new file");
  return out;
}

std::string ComplianceChangeText(const core::Topology& served, const core::Topology& next,
                                 const ComplianceChange& change) {
  std::string out = absl::StrCat("Compliance against the served config (version ",
                                 served.world().version, " -> ", next.world().version, "):\n");
  if (change.diff.loosened.empty() && change.diff.tightened.empty()) {
    absl::StrAppend(&out, "  no (client, DC) pair changes\n");
  }
  for (uint32_t r = 0; r < next.region_count(); ++r) {
    const std::string& region = next.region_config(r).id;
    const std::vector<Group> loosened = GroupPairs(change.diff.loosened, region);
    const std::vector<Group> tightened = GroupPairs(change.diff.tightened, region);
    if (loosened.empty() && tightened.empty()) continue;
    absl::StrAppend(&out, "  region ", region, ":\n");
    for (const Group& g : loosened) {
      absl::StrAppend(&out, "    newly allowed: ", absl::StrJoin(g.datacenters, ", "), " for ",
                      absl::StrJoin(g.clients, ", "), " (was denied by ", g.rule, ", ",
                      core::RuleFate(served, next, g.rule), ")\n");
    }
    for (const Group& g : tightened) {
      absl::StrAppend(&out, "    newly denied:  ", absl::StrJoin(g.datacenters, ", "), " for ",
                      absl::StrJoin(g.clients, ", "), " (by ", g.rule, ")\n");
    }
  }
  if (change.diff.loosens()) {
    if (change.acknowledged) {
      absl::StrAppend(&out, "  loosening acknowledged (allow_loosening_from: ",
                      served.world().version, "): a live reload applies it\n");
    } else {
      absl::StrAppend(&out, "  LOOSENING NOT ACKNOWLEDGED: a live reload refuses this file; ",
                      "to apply it on purpose, add \"allow_loosening_from: ",
                      served.world().version, "\"\n");
    }
  }
  return out;
}

std::string ComplianceChangeJson(const core::Topology& served, const core::Topology& next,
                                 const ComplianceChange& change) {
  util::JsonWriter w;
  w.BeginObject()
      .Key("served_version").Value(served.world().version)
      .Key("new_version").Value(next.world().version)
      .Key("acknowledged").Value(change.acknowledged)
      .Key("refused").Value(change.refused());
  for (const bool loosened : {true, false}) {
    w.Key(loosened ? "loosened" : "tightened").BeginArray();
    for (const core::PairChange& pair : loosened ? change.diff.loosened : change.diff.tightened) {
      w.BeginObject()
          .Key("client").Value(pair.client)
          .Key("region").Value(pair.region)
          .Key("datacenter").Value(pair.datacenter)
          .Key("rule").Value(pair.rule);
      if (loosened) w.Key("rule_fate").Value(core::RuleFate(served, next, pair.rule));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace dcdir::config
