#include "clients/agent/simulation.h"

#include <algorithm>

namespace dcdir::agent {

Simulator::Simulator(std::vector<std::string> dc_ids, uint64_t seed, double outage_probability)
    : ids_(std::move(dc_ids)), rng_(seed), outage_probability_(outage_probability) {
  std::uniform_real_distribution<double> base(0.10, 0.60);
  for (size_t i = 0; i < ids_.size(); ++i) {
    State s;
    s.base = base(rng_);
    s.congestion = s.base;
    states_.push_back(s);
  }
}

std::vector<SimulatedHealth> Simulator::Next() {
  std::normal_distribution<double> step(0.0, 0.04);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::uniform_int_distribution<int> outage_rounds(1, 3);
  std::vector<SimulatedHealth> out;
  out.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    State& s = states_[i];
    if (round_ > 0) {
      // Mean reversion keeps each DC near its own level; the noise makes it drift slowly.
      s.congestion = std::clamp(s.congestion + 0.1 * (s.base - s.congestion) + step(rng_), 0.0,
                                0.98);
      if (s.down_rounds > 0) {
        --s.down_rounds;
      } else if (coin(rng_) < outage_probability_) {
        s.down_rounds = outage_rounds(rng_);
      }
    }
    SimulatedHealth h;
    h.dc_id = ids_[i];
    h.status = s.down_rounds > 0 ? v1::HEALTH_STATUS_DOWN : v1::HEALTH_STATUS_HEALTHY;
    h.congestion = s.down_rounds > 0 ? 0.0 : s.congestion;
    out.push_back(std::move(h));
  }
  ++round_;
  return out;
}

}  // namespace dcdir::agent
