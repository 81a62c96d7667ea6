#ifndef DCDIR_SERVICE_CORE_TOPOLOGY_H_
#define DCDIR_SERVICE_CORE_TOPOLOGY_H_

// The world compiled for fast answers: indices instead of ids, and the deny rules evaluated
// ahead of time for every class of client. Immutable once built; shared by snapshots.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "service/core/dc_set.h"
#include "service/core/model.h"
#include "service/core/ranking.h"

namespace dcdir::core {

inline constexpr uint32_t kNoIndex = ~uint32_t{0};

struct CompiledRegion {
  uint32_t index = 0;
  std::vector<uint32_t> primaries;    // DC indices, config order
  std::vector<uint32_t> secondaries;  // DC indices, config order
  DcSet members;                      // DCs whose region is this one
  DcSet primary_set;                  // same as `primaries`, as a set
  std::vector<uint32_t> by_distance;  // every DC index, nearest to the reference point first
  std::vector<uint32_t> distance_rank;  // per DC index: its position in `by_distance`
};

// Who a client class stands for (see ClientClass).
enum class ClientClassKind {
  kMappedCountry,        // `country`, mapped to `region` in World::countries
  kRuleNamedCountry,     // `country`: not mapped, named in a rule's client selector; its
                         // clients are served by the default region
  kAnyOtherCountry,      // every country neither mapped nor named in any client selector
                         // (served by the default region); `country` is empty
  kSubdivision,          // the clients of `subdivision` (of `country`), which has its own
                         // home region in World::subdivisions
};

// One class of clients: everyone whose home region and deny-rule outcome are fixed by the same
// (country, home region) pair. The deny rules are evaluated once per class at Compile; the
// answer, the loader's candidate check, the policy report and the compliance what-if all read
// these fields instead of evaluating the rules again.
struct ClientClass {
  ClientClassKind kind = ClientClassKind::kMappedCountry;
  uint32_t region = kNoIndex;  // the clients' home region (index into the topology's regions)
  std::string country;         // upper-case ISO alpha-2; empty for kAnyOtherCountry
  std::string subdivision;     // kSubdivision: its ISO 3166-2 code ("US-WA"); else empty
  DcSet allowed;                        // DCs no rule denies
  std::vector<int32_t> denying_rule;    // per DC: first rule (file order) denying it, as an
                                        // index into World::deny_rules; -1: allowed
};

// A subdivision of the config (World::subdivisions), compiled.
struct CompiledSubdivision {
  std::string code;          // "US-WA"
  std::string_view country;  // "US" (points into `code`)
  // Its own home region (kNoIndex: the country's home region, i.e. its country's class).
  uint32_t region = kNoIndex;
  bool has_point = false;
  GeoPoint point;
  UnitVector unit;  // of `point`
  // The deny rules for (country, region) when it has its own region.
  ClientClass own_class;
};

// Who a client is for compliance and ranking: its home region and the pre-evaluated rules.
struct ResolvedClient {
  uint32_t region = kNoIndex;  // kNoIndex: not mapped (no answer)
  const ClientClass* cls = nullptr;                // set when region is
  const CompiledSubdivision* subdivision = nullptr;  // the config's subdivision, if any
};

class Topology {
 public:
  // Validates cross references (unknown DC/region ids, duplicates) and pre-computes indices.
  // Errors are INVALID_ARGUMENT with a message naming the offending id. (Source positions are
  // the config loader's job.)
  static absl::StatusOr<std::shared_ptr<const Topology>> Compile(World world);

  const World& world() const { return world_; }
  size_t dc_count() const { return world_.datacenters.size(); }
  const DataCenter& dc(uint32_t i) const { return world_.datacenters[i]; }
  const CompiledRegion& region(uint32_t i) const { return regions_[i]; }
  const Region& region_config(uint32_t i) const { return world_.regions[i]; }
  size_t region_count() const { return regions_.size(); }
  const std::vector<uint32_t>& dc_region() const { return dc_region_; }  // per DC
  // StableHash64(dc(i).id), computed once at Compile (the ranking's per-DC input).
  uint64_t dc_id_hash(uint32_t i) const { return dc_id_hash_[i]; }

  // kNoIndex when unknown.
  uint32_t DcIndex(std::string_view id) const;
  uint32_t RegionIndex(std::string_view id) const;

  // The home region of an upper-case alpha-2 country: its mapping, else the default region,
  // else kNoIndex.
  uint32_t HomeRegion(std::string_view country) const;

  // The pre-evaluated deny rules for a client of `country` (upper case) whose home region is
  // `region` (as returned by HomeRegion).
  const ClientClass& ClassFor(std::string_view country, uint32_t region) const;

  // Every client class whose home region is `region`, in this order: the countries mapped to
  // it (World::countries order); for the default region, the unmapped countries named in
  // rules' client selectors (first mention, file order), then "any other country"; then the
  // subdivisions with `region` as their own home region (World::subdivisions order). Empty for
  // a region no client has as home. The pointers live as long as the topology.
  const std::vector<const ClientClass*>& client_classes(uint32_t region) const {
    return region_classes_[region];
  }

  // DCs of the given regions (a tenant's allowed ∪ home), as a set.
  DcSet DcsInRegions(const std::vector<uint32_t>& regions) const;

  // The client class of a client of `country` (upper case) in `subdivision` (ISO 3166-2, upper
  // case, or empty): a subdivision of the config with its own region gives that region and
  // the rules evaluated for (country, that region); otherwise the country's home region and
  // class (HomeRegion, ClassFor). A subdivision of another country is ignored.
  ResolvedClient Resolve(std::string_view country, std::string_view subdivision) const;

  // The config's subdivision `code` (upper case), or nullptr.
  const CompiledSubdivision* FindSubdivision(std::string_view code) const;
  const std::vector<CompiledSubdivision>& subdivisions() const { return subdivisions_; }

  // Per DC: its location on the unit sphere.
  const UnitVector& dc_unit(uint32_t i) const { return dc_unit_[i]; }
  // The ranking settings as numbers (World::ranking, thresholds.congestion_enter).
  const RttModel& rtt_model() const { return rtt_model_; }

 private:
  Topology() = default;
  World world_;
  std::vector<CompiledRegion> regions_;
  std::vector<uint32_t> dc_region_;
  std::vector<uint64_t> dc_id_hash_;
  absl::flat_hash_map<std::string, uint32_t> dc_index_;
  absl::flat_hash_map<std::string, uint32_t> region_index_;
  absl::flat_hash_map<std::string, uint32_t> country_region_;
  uint32_t default_region_ = kNoIndex;
  // Classes for countries named in the country map or in any rule, and one "other country"
  // class per region.
  absl::flat_hash_map<std::string, ClientClass> country_class_;
  std::vector<ClientClass> other_country_class_;
  std::vector<std::vector<const ClientClass*>> region_classes_;  // per region, see client_classes
  std::vector<CompiledSubdivision> subdivisions_;
  absl::flat_hash_map<std::string, uint32_t> subdivision_index_;
  std::vector<UnitVector> dc_unit_;
  RttModel rtt_model_;
};

// ISO 3166-2 form: two upper-case letters, '-', 1 to 3 upper-case letters or digits.
bool IsSubdivisionCode(std::string_view code);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TOPOLOGY_H_
