#ifndef DCDIR_SERVICE_CORE_RANKING_H_
#define DCDIR_SERVICE_CORE_RANKING_H_

// The ranking score (also written down in the README):
//
//   weight(dc)       = capacity_sessions(dc) * max(0.05, 1 - congestion(dc))   (capacity headroom)
//   u(client, dc)    = StableHash64(client_id) mixed with StableHash64(dc.id), mapped to (0, 1)
//   score(client,dc) = -weight(dc) / ln(u)      (weighted rendezvous hashing)
//
// Within one group (non-congested primaries, then congested primaries) DCs are ordered by
// descending score, ties by DC index. A client lands first on a DC with probability
// proportional to its weight, the same client_id always gets the same order, and one DC
// changing moves only the clients whose first choice it was.
// Secondaries keep the configured order (non-congested first); top-ups are ordered by
// great-circle distance from the region's reference point (nearest first).

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

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_RANKING_H_
