#include "service/core/topology.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/core/policy.h"
#include "service/core/ranking.h"

namespace dcdir::core {
namespace {

// Debian's Abseil is built with its own string_view: heterogeneous lookups need that type.
absl::string_view AsKey(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError(what);
}

const char* FieldName(SelectorField f) {
  switch (f) {
    case SelectorField::kRegion:
      return "region";
    case SelectorField::kCountry:
      return "country";
    case SelectorField::kDataCenter:
      return "datacenter";
  }
  return "?";
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Topology>> Topology::Compile(World world) {
  // `new` because the constructor is private (std::make_shared cannot reach it).
  std::shared_ptr<Topology> t(new Topology());
  const size_t n = world.datacenters.size();

  // --- Regions and DCs: ids, duplicates, cross references.
  for (uint32_t i = 0; i < world.regions.size(); ++i) {
    const Region& r = world.regions[i];
    if (r.id.empty()) return Invalid(absl::StrCat("region #", i, " has an empty id"));
    if (!t->region_index_.emplace(r.id, i).second) {
      return Invalid(absl::StrCat("duplicate region id \"", r.id, "\""));
    }
  }
  t->dc_region_.resize(n);
  t->dc_id_hash_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const DataCenter& dc = world.datacenters[i];
    if (dc.id.empty()) return Invalid(absl::StrCat("datacenter #", i, " has an empty id"));
    if (!t->dc_index_.emplace(dc.id, i).second) {
      return Invalid(absl::StrCat("duplicate datacenter id \"", dc.id, "\""));
    }
    auto it = t->region_index_.find(dc.region);
    if (it == t->region_index_.end()) {
      return Invalid(absl::StrCat("datacenter \"", dc.id, "\" names unknown region \"",
                                  dc.region, "\""));
    }
    t->dc_region_[i] = it->second;
    t->dc_id_hash_[i] = StableHash64(dc.id);
  }

  t->regions_.resize(world.regions.size());
  for (uint32_t ri = 0; ri < world.regions.size(); ++ri) {
    const Region& r = world.regions[ri];
    CompiledRegion& cr = t->regions_[ri];
    cr.index = ri;
    cr.members = DcSet(n);
    cr.primary_set = DcSet(n);
    DcSet secondary_set(n);
    for (const std::string& id : r.primaries) {
      auto it = t->dc_index_.find(id);
      if (it == t->dc_index_.end()) {
        return Invalid(absl::StrCat("region \"", r.id, "\" lists unknown primary datacenter \"",
                                    id, "\""));
      }
      if (cr.primary_set.Contains(it->second)) {
        return Invalid(absl::StrCat("region \"", r.id, "\" lists primary datacenter \"", id,
                                    "\" twice"));
      }
      cr.primary_set.Insert(it->second);
      cr.primaries.push_back(it->second);
    }
    for (const std::string& id : r.secondaries) {
      auto it = t->dc_index_.find(id);
      if (it == t->dc_index_.end()) {
        return Invalid(absl::StrCat("region \"", r.id,
                                    "\" lists unknown secondary datacenter \"", id, "\""));
      }
      if (secondary_set.Contains(it->second)) {
        return Invalid(absl::StrCat("region \"", r.id, "\" lists secondary datacenter \"", id,
                                    "\" twice"));
      }
      secondary_set.Insert(it->second);
      cr.secondaries.push_back(it->second);
    }
    // Every DC, nearest to the reference point first; ties by index (stable sort of 0..n-1).
    std::vector<std::pair<double, uint32_t>> dist(n);
    for (uint32_t i = 0; i < n; ++i) {
      dist[i] = {DistanceKm(r.reference, world.datacenters[i].location), i};
    }
    std::sort(dist.begin(), dist.end());
    cr.by_distance.reserve(n);
    for (const auto& [d, i] : dist) cr.by_distance.push_back(i);
    cr.distance_rank.resize(n);
    for (uint32_t k = 0; k < n; ++k) cr.distance_rank[cr.by_distance[k]] = k;
  }
  for (uint32_t i = 0; i < n; ++i) t->regions_[t->dc_region_[i]].members.Insert(i);

  // --- Countries and the default region.
  for (const auto& [country, region] : world.countries) {
    auto it = t->region_index_.find(region);
    if (it == t->region_index_.end()) {
      return Invalid(absl::StrCat("country \"", country, "\" is mapped to unknown region \"",
                                  region, "\""));
    }
    if (!t->country_region_.emplace(country, it->second).second) {
      return Invalid(absl::StrCat("country \"", country, "\" is mapped twice"));
    }
  }
  if (world.default_region.has_value()) {
    auto it = t->region_index_.find(*world.default_region);
    if (it == t->region_index_.end()) {
      return Invalid(absl::StrCat("default region \"", *world.default_region, "\" is unknown"));
    }
    t->default_region_ = it->second;
  }

  // --- Deny rules: a client has no DC id; region and DC ids named must exist (a typo in a
  // compliance rule must not silently change what it denies). Countries cannot be checked.
  std::vector<std::string> rule_countries;  // named in client selectors, first mention first
  absl::flat_hash_set<std::string> rule_country_set;
  for (const DenyRule& rule : world.deny_rules) {
    for (const Condition& c : rule.clients) {
      if (c.field == SelectorField::kDataCenter) {
        return Invalid(absl::StrCat("deny rule \"", rule.name,
                                    "\": a client selector cannot match by datacenter"));
      }
    }
    for (int side = 0; side < 2; ++side) {
      for (const Condition& c : side == 0 ? rule.clients : rule.datacenters) {
        for (const std::string& v : c.values) {
          if (c.field == SelectorField::kRegion && !t->region_index_.contains(v)) {
            return Invalid(absl::StrCat("deny rule \"", rule.name, "\" names unknown ",
                                        FieldName(c.field), " \"", v, "\""));
          }
          if (c.field == SelectorField::kDataCenter && !t->dc_index_.contains(v)) {
            return Invalid(absl::StrCat("deny rule \"", rule.name, "\" names unknown ",
                                        FieldName(c.field), " \"", v, "\""));
          }
          if (side == 0 && c.field == SelectorField::kCountry &&
              rule_country_set.insert(v).second) {
            rule_countries.push_back(v);
          }
        }
      }
    }
  }

  // --- Pre-evaluate the rules for every class of client. The DC side of a rule does not
  // depend on the client: evaluate it once per rule (rules x DCs), then per class only the
  // client sides (classes x rules) and bit tests.
  std::vector<DcSet> rule_dcs;
  rule_dcs.reserve(world.deny_rules.size());
  for (const DenyRule& rule : world.deny_rules) {
    DcSet s(n);
    for (uint32_t i = 0; i < n; ++i) {
      if (DcSideMatches(rule, world.datacenters[i])) s.Insert(i);
    }
    rule_dcs.push_back(std::move(s));
  }
  std::vector<uint32_t> matching;  // rules whose client side matches, file order
  auto evaluate = [&](ClientClassKind kind, std::string_view country, uint32_t region) {
    ClientClass cls;
    cls.kind = kind;
    cls.region = region;
    cls.country = std::string(country);
    cls.allowed = DcSet(n, /*all=*/true);
    cls.denying_rule.assign(n, -1);
    const ClientKey key{country, world.regions[region].id,
                        /*any_other_country=*/kind == ClientClassKind::kAnyOtherCountry};
    matching.clear();
    for (uint32_t k = 0; k < world.deny_rules.size(); ++k) {
      if (ClientSideMatches(world.deny_rules[k], key)) matching.push_back(k);
    }
    if (matching.empty()) return cls;
    for (uint32_t i = 0; i < n; ++i) {
      for (uint32_t k : matching) {
        if (rule_dcs[k].Contains(i)) {
          cls.denying_rule[i] = static_cast<int32_t>(k);
          cls.allowed.Erase(i);
          break;
        }
      }
    }
    return cls;
  };
  for (const auto& [country, region] : t->country_region_) {
    t->country_class_.emplace(country,
                              evaluate(ClientClassKind::kMappedCountry, country, region));
  }
  for (const std::string& country : rule_countries) {
    if (t->country_class_.contains(country) || t->default_region_ == kNoIndex) continue;
    // Not mapped: such clients are served by the default region.
    t->country_class_.emplace(
        country, evaluate(ClientClassKind::kRuleNamedCountry, country, t->default_region_));
  }
  // One per region: ClassFor falls back to it for any region a caller resolves to, though
  // only the default region's is a class of real clients (listed by client_classes).
  t->other_country_class_.reserve(world.regions.size());
  for (uint32_t ri = 0; ri < world.regions.size(); ++ri) {
    t->other_country_class_.push_back(evaluate(ClientClassKind::kAnyOtherCountry, "", ri));
  }

  // --- Subdivisions: a subdivision with its own home region is its own client class.
  t->subdivisions_.reserve(world.subdivisions.size());
  for (const Subdivision& sub : world.subdivisions) {
    if (!IsSubdivisionCode(sub.code)) {
      return Invalid(absl::StrCat("subdivision \"", sub.code,
                                  "\" is not an ISO 3166-2 code such as \"US-WA\""));
    }
    if (t->subdivision_index_.contains(sub.code)) {
      return Invalid(absl::StrCat("subdivision \"", sub.code, "\" is listed twice"));
    }
    CompiledSubdivision cs;
    cs.code = sub.code;
    if (sub.region.has_value()) {
      auto it = t->region_index_.find(*sub.region);
      if (it == t->region_index_.end()) {
        return Invalid(absl::StrCat("subdivision \"", sub.code, "\" is mapped to unknown region \"",
                                    *sub.region, "\""));
      }
      cs.region = it->second;
      cs.own_class = evaluate(ClientClassKind::kSubdivision,
                              std::string_view(sub.code).substr(0, 2), cs.region);
      cs.own_class.subdivision = sub.code;
    }
    if (sub.point.has_value()) {
      cs.has_point = true;
      cs.point = *sub.point;
      cs.unit = ToUnitVector(*sub.point);
    }
    t->subdivision_index_.emplace(sub.code, static_cast<uint32_t>(t->subdivisions_.size()));
    t->subdivisions_.push_back(std::move(cs));
  }
  // `country` views point into each entry's own `code` (stable now that the vector is final).
  for (CompiledSubdivision& cs : t->subdivisions_) {
    cs.country = std::string_view(cs.code).substr(0, 2);
  }

  // --- The client classes per region, in client_classes' order (every map above is final,
  // so the pointers stay valid).
  t->region_classes_.resize(world.regions.size());
  for (const auto& [country, region] : world.countries) {
    const ClientClass& cls = t->country_class_.at(country);
    t->region_classes_[cls.region].push_back(&cls);
  }
  if (t->default_region_ != kNoIndex) {
    std::vector<const ClientClass*>& def = t->region_classes_[t->default_region_];
    for (const std::string& country : rule_countries) {
      const ClientClass& cls = t->country_class_.at(country);
      if (cls.kind == ClientClassKind::kRuleNamedCountry) def.push_back(&cls);
    }
    def.push_back(&t->other_country_class_[t->default_region_]);
  }
  for (const CompiledSubdivision& cs : t->subdivisions_) {
    if (cs.region != kNoIndex) t->region_classes_[cs.region].push_back(&cs.own_class);
  }

  t->dc_unit_.reserve(n);
  for (const DataCenter& dc : world.datacenters) t->dc_unit_.push_back(ToUnitVector(dc.location));
  t->rtt_model_ = MakeRttModel(world.ranking, world.thresholds.congestion_enter);

  t->world_ = std::move(world);
  return std::shared_ptr<const Topology>(std::move(t));
}

uint32_t Topology::DcIndex(std::string_view id) const {
  auto it = dc_index_.find(AsKey(id));
  return it == dc_index_.end() ? kNoIndex : it->second;
}

uint32_t Topology::RegionIndex(std::string_view id) const {
  auto it = region_index_.find(AsKey(id));
  return it == region_index_.end() ? kNoIndex : it->second;
}

uint32_t Topology::HomeRegion(std::string_view country) const {
  auto it = country_region_.find(AsKey(country));
  return it == country_region_.end() ? default_region_ : it->second;
}

const ClientClass& Topology::ClassFor(std::string_view country, uint32_t region) const {
  auto it = country_class_.find(AsKey(country));
  if (it != country_class_.end()) return it->second;
  return other_country_class_[region];
}

ResolvedClient Topology::Resolve(std::string_view country, std::string_view subdivision) const {
  ResolvedClient r;
  if (!subdivision.empty() && subdivision.substr(0, 2) == country) {
    r.subdivision = FindSubdivision(subdivision);
  }
  if (r.subdivision != nullptr && r.subdivision->region != kNoIndex) {
    r.region = r.subdivision->region;
    r.cls = &r.subdivision->own_class;
    return r;
  }
  r.region = HomeRegion(country);
  if (r.region != kNoIndex) r.cls = &ClassFor(country, r.region);
  return r;
}

const CompiledSubdivision* Topology::FindSubdivision(std::string_view code) const {
  if (subdivisions_.empty()) return nullptr;
  auto it = subdivision_index_.find(AsKey(code));
  return it == subdivision_index_.end() ? nullptr : &subdivisions_[it->second];
}

bool IsSubdivisionCode(std::string_view code) {
  if (code.size() < 4 || code.size() > 6 || code[2] != '-') return false;
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!upper(code[0]) || !upper(code[1])) return false;
  for (char c : code.substr(3)) {
    if (!upper(c) && !digit(c)) return false;
  }
  return true;
}

DcSet Topology::DcsInRegions(const std::vector<uint32_t>& regions) const {
  DcSet s(dc_count());
  for (uint32_t r : regions) {
    if (r < regions_.size()) s |= regions_[r].members;
  }
  return s;
}

}  // namespace dcdir::core
