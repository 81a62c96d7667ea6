#ifndef DCDIR_SERVICE_CORE_RANKING_H_
#define DCDIR_SERVICE_CORE_RANKING_H_

// The ranking score (also written down in the README):
//
//   weight(dc)       = capacity_sessions(dc) * max(0.05, 1 - congestion(dc))   (capacity headroom)
//   u(client, dc)    = StableHash64(client_id) mixed with StableHash64(dc.id), mapped to (0, 1)
//   score(client,dc) = -weight(dc) / ln(u)      (weighted rendezvous hashing)
//
// A client lands first on a DC with probability proportional to its weight, the same client_id
// always gets the same order, and one DC changing moves only the clients whose first choice it
// was.
//
// Where the client is (issue 13; README "What an answer is"; docs/RANKING.md):
//
//   estimated RTT(client, dc) =
//     the client's own observed RTT for dc, when it sent one no older than ranking.rtt_max_age;
//     else, when the client's location is known,
//       rtt_base + 2 * path_stretch * distance_km(client, dc) / 200 km/ms
//     else none.
//
//   - 200 km/ms: light in optical fibre travels at about c / 1.47 (the refractive index of
//     silica), ~204 km per ms one way; a round trip covers the distance twice.
//   - path_stretch (default 1.5): fibre routes are not great circles. Singla, Chandrasekaran,
//     Godfrey, Maggs, "The Internet at the Speed of Light", HotNets 2014, measured even the
//     minimum ping times between well-connected hosts at roughly 3x the great-circle
//     c-latency (median); fibre's refractive index explains 1.47x of that, path length and
//     routing most of the rest (2.2x c-latency here = 1.47 * 1.5).
//   - rtt_base (default 10 ms): what does not grow with distance: the access network (cable,
//     DSL, mobile), the first hops and the servers. It keeps the ratios of short distances
//     honest: 50 km vs 300 km is 10.8 vs 14.5 ms, not 6x.
//
// Primaries, inside each group (non-congested, then congested):
//   best = the smallest estimate of the group;
//   band = DCs whose estimate is <= best + max(latency_band_absolute, latency_band_relative *
//          best); ranked by descending rendezvous score (headroom-weighted, as above);
//   then DCs without an estimate (a client that sent RTTs for some DCs only), by score;
//   then the others, nearest (smallest estimate) first; equal estimates by DC index.
//   With no estimate at all (no location, no fresh RTT) every DC is in the band: exactly the
//   rendezvous order above, as before issue 13.
//
// Gradual spillover (only when the client has an estimate; without one the headroom weight
// already sheds load in proportion): a non-congested DC at congestion c sheds
//   share = clamp((c - spill_start) / (congestion_enter - spill_start), 0, 1)
// of its clients: client K is spilled from dc when SpillDraw(K, dc) < share. A spilled DC
// moves behind the next non-spilled DC of its group (never into the congested group, never
// adding or removing a DC). SpillDraw is a hash, so the same clients move first and more of
// them move as the overload grows (like Envoy's overprovisioning factor).
//
// Secondaries keep the configured order (non-congested first), or, with
// ranking.nearest_secondaries, smallest estimate first. Top-ups are the eligible DCs nearest to
// the client when its location is known, else to the region's reference point.

#include <cstdint>
#include <string_view>

#include "service/core/model.h"

namespace dcdir::core {

// A hash that is the same on every replica, platform and run (FNV-1a 64 + a finaliser).
uint64_t StableHash64(std::string_view s);

// Capacity headroom weight of a DC (see above); always > 0.
double HeadroomWeight(uint64_t capacity_sessions, double congestion);

// Weighted rendezvous score; higher ranks first.
double RendezvousScore(uint64_t client_hash, uint64_t dc_hash, double weight);

// Great-circle distance in kilometres.
double DistanceKm(const GeoPoint& a, const GeoPoint& b);

// A point on the unit sphere (x towards lat 0 lon 0, z towards the north pole). Nearness of
// two points compares dot products: a larger dot product is nearer.
struct UnitVector {
  double x = 0, y = 0, z = 0;
  bool operator==(const UnitVector&) const = default;
};
UnitVector ToUnitVector(const GeoPoint& p);
inline double Dot(const UnitVector& a, const UnitVector& b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
// Great-circle distance in kilometres between two unit vectors (the same sphere as DistanceKm;
// equal to it within 1 m).
double UnitDistanceKm(const UnitVector& a, const UnitVector& b);

// Light in optical fibre, km per ms, one way (see above).
inline constexpr double kFibreKmPerMs = 200.0;

// The ranking settings as numbers for the hot path.
struct RttModel {
  double base_ms = 10;
  double ms_per_km = 2 * 1.5 / kFibreKmPerMs;  // 2 * path_stretch / kFibreKmPerMs
  double band_absolute_ms = 5;
  double band_relative = 0.25;
  double spill_start = 0.70;
  double congestion_enter = 0.85;
  double rtt_max_age_ms = 600000;
};
RttModel MakeRttModel(const RankingSettings& ranking, double congestion_enter);

// rtt_base + 2 * path_stretch * km / 200, in ms.
inline double EstimateRttMs(const RttModel& m, double km) { return m.base_ms + m.ms_per_km * km; }

// The latest estimate still in the band whose best estimate is `best_ms`.
inline double BandLimitMs(const RttModel& m, double best_ms) {
  const double rel = m.band_relative * best_ms;
  return best_ms + (rel > m.band_absolute_ms ? rel : m.band_absolute_ms);
}

// The share of a non-congested DC's clients that spill over, in [0, 1] (see above).
double SpillShare(const RttModel& m, double congestion);

// A client's draw for spilling from a DC, uniform in [0, 1), independent of the rendezvous
// draw: Mix64(client_hash ^ Mix64(dc_hash ^ kSpillSalt)) >> 11, times 2^-53.
double SpillDraw(uint64_t client_hash, uint64_t dc_hash);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_RANKING_H_
