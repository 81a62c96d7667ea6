#include "service/core/ranking.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace dcdir::core {
namespace {

// splitmix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mixer with full
// avalanche.
constexpr uint64_t Mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z;
}

constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

}  // namespace

// StableHash64(s) = Mix64(FNV-1a-64(bytes of s)).
// FNV-1a 64: h = 14695981039346656037; for each byte b: h ^= b; h *= 1099511628211.
// The value is part of the product (the same client id must get the same order on every
// replica and version): tests pin it for a few strings.
uint64_t StableHash64(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return Mix64(h);
}

double HeadroomWeight(uint64_t capacity_sessions, double congestion) {
  // Capacity 0 is rejected by the config loader; count it as 1 so the weight stays > 0.
  const double capacity = static_cast<double>(std::max<uint64_t>(capacity_sessions, 1));
  double headroom = 1.0 - congestion;
  if (!(headroom >= 0.05)) headroom = 0.05;  // also catches NaN
  if (headroom > 1.0) headroom = 1.0;        // negative congestion is never more than idle
  return capacity * headroom;
}

// u = ((Mix64(client_hash ^ (dc_hash * golden)) >> 12) + 0.5) / 2^52, so u lies in
// [2^-53, 1 - 2^-53]: never 0 and never 1 (both exactly representable), ln(u) < 0 always.
// score = -weight / ln(u). With u uniform, P(dc has the highest score) = weight / sum(weights).
double RendezvousScore(uint64_t client_hash, uint64_t dc_hash, double weight) {
  const uint64_t h = Mix64(client_hash ^ (dc_hash * 0x9e3779b97f4a7c15ULL));
  const double u = (static_cast<double>(h >> 12) + 0.5) * 0x1.0p-52;
  return -weight / std::log(u);
}

// Haversine formula on a sphere of the mean Earth radius.
double DistanceKm(const GeoPoint& a, const GeoPoint& b) {
  const double lat1 = a.lat * kDegToRad;
  const double lat2 = b.lat * kDegToRad;
  const double dlat = lat2 - lat1;
  const double dlon = (b.lon - a.lon) * kDegToRad;
  const double s1 = std::sin(dlat / 2);
  const double s2 = std::sin(dlon / 2);
  double h = s1 * s1 + std::cos(lat1) * std::cos(lat2) * s2 * s2;
  h = std::clamp(h, 0.0, 1.0);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(h));
}

UnitVector ToUnitVector(const GeoPoint& p) {
  const double lat = p.lat * kDegToRad;
  const double lon = p.lon * kDegToRad;
  return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
}

// atan2(|a x b|, a . b): accurate at every distance (acos loses precision near 0).
double UnitDistanceKm(const UnitVector& a, const UnitVector& b) {
  const double cx = a.y * b.z - a.z * b.y;
  const double cy = a.z * b.x - a.x * b.z;
  const double cz = a.x * b.y - a.y * b.x;
  return kEarthRadiusKm * std::atan2(std::sqrt(cx * cx + cy * cy + cz * cz), Dot(a, b));
}

RttModel MakeRttModel(const RankingSettings& r, double congestion_enter) {
  RttModel m;
  m.base_ms = absl::ToDoubleMilliseconds(r.rtt_base);
  m.ms_per_km = 2 * r.path_stretch / kFibreKmPerMs;
  m.band_absolute_ms = absl::ToDoubleMilliseconds(r.latency_band_absolute);
  m.band_relative = r.latency_band_relative;
  m.spill_start = r.spill_start;
  m.congestion_enter = congestion_enter;
  m.rtt_max_age_ms = absl::ToDoubleMilliseconds(r.rtt_max_age);
  return m;
}

double SpillShare(const RttModel& m, double congestion) {
  if (!(congestion > m.spill_start)) return 0;  // also NaN
  const double span = m.congestion_enter - m.spill_start;
  if (!(span > 0)) return 1;
  const double share = (congestion - m.spill_start) / span;
  return share >= 1 ? 1 : share;
}

double SpillDraw(uint64_t client_hash, uint64_t dc_hash) {
  constexpr uint64_t kSpillSalt = 0x5350494c4c4f5652ULL;  // "SPILLOVR"
  return static_cast<double>(Mix64(client_hash ^ Mix64(dc_hash ^ kSpillSalt)) >> 11) *
         0x1.0p-53;
}

}  // namespace dcdir::core
