#ifndef DCDIR_TESTS_CORE_CORE_TEST_UTIL_H_
#define DCDIR_TESTS_CORE_CORE_TEST_UTIL_H_

// Small helpers shared by the core tests.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/model.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"

namespace dcdir::core {

inline const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

inline HealthRecord Record(HealthStatus status, double congestion = 0.1, bool congested = false,
                           absl::Time reported = kT0,
                           absl::Duration ttl = absl::Seconds(30)) {
  HealthRecord r;
  r.status = status;
  r.congestion = congestion;
  r.congested = congested;
  r.reported_at = reported;
  r.expires_at = reported + ttl;
  return r;
}

inline std::shared_ptr<const Topology> MustCompile(World w) {
  auto t = Topology::Compile(std::move(w));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : nullptr;
}

// DC ids of a list of picks, in order.
template <typename Picks>
std::vector<std::string> Ids(const Topology& t, const Picks& picks) {
  std::vector<std::string> out;
  for (const auto& p : picks) out.push_back(t.dc(p.dc).id);
  return out;
}

inline std::vector<std::string> IdList(const Topology& t,
                                       const absl::InlinedVector<uint32_t, 4>& dcs) {
  std::vector<std::string> out;
  for (uint32_t i : dcs) out.push_back(t.dc(i).id);
  return out;
}

}  // namespace dcdir::core

#endif  // DCDIR_TESTS_CORE_CORE_TEST_UTIL_H_
