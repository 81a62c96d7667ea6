#ifndef DCDIR_CLIENTS_AGENT_SIMULATION_H_
#define DCDIR_CLIENTS_AGENT_SIMULATION_H_

// Simulated DC health for demos and load tests: congestion is a mean-reverting random walk around
// a per-DC base level (slowly varying, in [0, 0.98]), and from the second round on each DC has a
// small chance per round of a short outage (DOWN for 1-3 rounds). Seeded: the same seed gives the
// same sequence (for one build of the standard library).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dcdir/v1/types.pb.h"

namespace dcdir::agent {

struct SimulatedHealth {
  std::string dc_id;
  v1::HealthStatus status = v1::HEALTH_STATUS_HEALTHY;
  double congestion = 0;
};

class Simulator {
 public:
  Simulator(std::vector<std::string> dc_ids, uint64_t seed, double outage_probability);

  // The next round: one entry per DC, in the order given. The first round has no outage.
  std::vector<SimulatedHealth> Next();

 private:
  struct State {
    double base = 0;
    double congestion = 0;
    int down_rounds = 0;
  };
  std::vector<std::string> ids_;
  std::vector<State> states_;
  std::mt19937_64 rng_;
  double outage_probability_;
  int round_ = 0;
};

}  // namespace dcdir::agent

#endif  // DCDIR_CLIENTS_AGENT_SIMULATION_H_
