#include "service/core/compliance_diff.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "service/core/policy.h"

namespace dcdir::core {
namespace {

// Clients a world names: countries mapped or in a rule's client selector, and its subdivisions
// (ISO 3166-2 codes: a subdivision may be a client class of its own).
void AddNamedCountries(const World& world, std::set<std::string>* out) {
  for (const auto& [country, region] : world.countries) out->insert(country);
  for (const Subdivision& sub : world.subdivisions) out->insert(sub.code);
  for (const DenyRule& rule : world.deny_rules) {
    for (const Condition& c : rule.clients) {
      if (c.field == SelectorField::kCountry) out->insert(c.values.begin(), c.values.end());
    }
  }
}

// The country of a client: itself, or a subdivision's first two letters.
std::string CountryOf(const std::string& client) {
  return client.size() > 2 ? client.substr(0, 2) : client;
}

// The home region id of `client` ("" = a country the world does not name; "CC-XXX" = a
// subdivision: its own region in `t`, else its country's) in `t`, or "".
std::string HomeRegionId(const Topology& t, const std::string& client) {
  const uint32_t r = client.size() > 2 ? t.Resolve(CountryOf(client), client).region
                                       : t.HomeRegion(client);
  return r == kNoIndex ? std::string() : t.region_config(r).id;
}

const DenyRule* Denying(const World& world, const std::string& client, const std::string& region,
                        const DataCenter& dc) {
  const std::string country = CountryOf(client);
  return FirstDenyingRule(world.deny_rules, ClientKey{country, region}, dc);
}

}  // namespace

ComplianceDiff DiffCompliance(const Topology& served, const Topology& next) {
  std::set<std::string> named;
  AddNamedCountries(served.world(), &named);
  AddNamedCountries(next.world(), &named);
  std::vector<std::string> clients(named.begin(), named.end());
  clients.push_back("");  // any country neither config names

  ComplianceDiff diff;
  for (const std::string& client : clients) {
    const std::string next_home = HomeRegionId(next, client);
    if (next_home.empty()) continue;  // the new config serves this client nothing
    const std::string served_home_or_none = HomeRegionId(served, client);
    const bool served_serves = !served_home_or_none.empty();
    const std::string& served_home = served_serves ? served_home_or_none : next_home;
    for (uint32_t i = 0; i < next.dc_count(); ++i) {
      const DataCenter& dc = next.dc(i);
      const uint32_t si = served.DcIndex(dc.id);
      const DataCenter& served_dc = si == kNoIndex ? dc : served.dc(si);
      const DenyRule* now_denied = Denying(next.world(), client, next_home, dc);
      const DenyRule* was_denied = Denying(served.world(), client, served_home, served_dc);
      if (now_denied == nullptr && was_denied != nullptr) {
        diff.loosened.push_back({client, next_home, dc.id, was_denied->name});
      } else if (now_denied != nullptr && was_denied == nullptr && served_serves &&
                 si != kNoIndex) {
        diff.tightened.push_back({client, next_home, dc.id, now_denied->name});
      }
    }
  }
  // Region (new config order), client ("" last), DC (new config order).
  auto order = [&](const PairChange& a, const PairChange& b) {
    const uint32_t ra = next.RegionIndex(a.region), rb = next.RegionIndex(b.region);
    if (ra != rb) return ra < rb;
    if (a.client != b.client) {
      if (a.client.empty() || b.client.empty()) return b.client.empty();
      return a.client < b.client;
    }
    return next.DcIndex(a.datacenter) < next.DcIndex(b.datacenter);
  };
  std::sort(diff.loosened.begin(), diff.loosened.end(), order);
  std::sort(diff.tightened.begin(), diff.tightened.end(), order);
  return diff;
}

std::string RuleFate(const Topology& served, const Topology& next, const std::string& rule) {
  const DenyRule* before = nullptr;
  for (const DenyRule& r : served.world().deny_rules) {
    if (r.name == rule) before = &r;
  }
  for (const DenyRule& r : next.world().deny_rules) {
    if (r.name != rule) continue;
    return before != nullptr && r.clients == before->clients &&
                   r.datacenters == before->datacenters
               ? "unchanged"
               : "changed";
  }
  return "removed";
}

}  // namespace dcdir::core
