// Bounded cardinality: whatever clients send (random countries, valid or not, tenants, client
// ids, fallback and health reports), the number of series of every dcdir_ metric family is the
// number the config implies, before and after; the two region-pair families start with the
// pairs the config names and may only grow towards the other pairs of configured regions.

#include <algorithm>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/metrics/metrics.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

using testing::LabelValues;
using testing::SeriesByFamily;
using testing::Sum;
using testing::TestServer;

// Region pairs (client region, DC region) the config names: a region with itself and with the
// regions of its primaries and secondaries.
size_t NamedPairs(const core::Topology& topology, bool include_self) {
  size_t n = 0;
  for (const core::Region& region : topology.world().regions) {
    std::set<std::string> regions = {region.id};
    for (const auto* ids : {&region.primaries, &region.secondaries}) {
      for (const std::string& id : *ids) regions.insert(topology.dc(topology.DcIndex(id)).region);
    }
    n += regions.size() - (include_self ? 0 : 1);
  }
  return n;
}

// What the config implies (R regions, D DCs, N deny rules; 17 canonical codes).
std::map<std::string, size_t> Expected(const core::Topology& topology) {
  const size_t r = topology.region_count();
  const size_t d = topology.dc_count();
  const size_t rules = topology.world().deny_rules.size();
  return {
      {"dcdir_directory_requests_total", (r + 1) * 17},  // + client_region="unknown"
      {"dcdir_directory_errors_total", (r + 1) * 6},     // x reason (6 tokens)
      {"dcdir_directory_request_duration_seconds", 3},    // per method
      {"dcdir_fallback_responses_total", r},
      {"dcdir_cross_border_fallback_total", NamedPairs(topology, false)},
      {"dcdir_compliance_exclusions_total", rules + 1},   // + tenant_control
      {"dcdir_datacenter_up", d},
      {"dcdir_datacenter_congestion", d},
      {"dcdir_health_reports_total", 7},                  // per result
      {"dcdir_client_fallbacks_total", NamedPairs(topology, true) * 2},  // x cross_border
      {"dcdir_store_up", 1},
      {"dcdir_snapshot_age_seconds", 1},
      {"dcdir_snapshot_version", 1},
      {"dcdir_self_preservation_active", 1},
      {"dcdir_self_preservation_kept_datacenters", 1},
      {"dcdir_orphaned_tenant_policies", 1},
      {"dcdir_store_bad_records_total", 1},
      {"dcdir_config_reload_total", 4},                   // success, error, loosening_refused,
                                                          // unchanged
      {"dcdir_build_info", 1},                            // {version}
      {"dcdir_grpc_connections", 1},
      {"dcdir_grpc_connections_accepted_total", 1},
      {"dcdir_grpc_connections_refused_total", 3},        // limit, peer_limit, descriptors
      {"dcdir_unparsable_requests_total", 2 + 2 + 5},     // per RPC but GetDirectory
  };
}

class Flood {
 public:
  explicit Flood(uint32_t seed) : rng_(seed) {}

  std::string Country() {
    switch (Pick(6)) {
      case 0: return kMapped[Pick(std::size(kMapped))];
      case 1:  // any two letters, any case: mapped, unmapped (default region) or lower case
      case 2: return std::string{Letter(), Letter()};
      case 3: return Junk(1 + Pick(6));  // invalid
      case 4: return "";                 // invalid: missing
      default: return std::string{Letter(), static_cast<char>('0' + Pick(10))};  // invalid
    }
  }
  std::string Tenant() {
    switch (Pick(4)) {
      case 0: return "";
      case 1: return absl::StrCat("tenant-", Pick(100000));
      case 2: return Junk(1 + Pick(80));  // often invalid
      default: return "acme";
    }
  }
  std::string ClientId() { return Junk(Pick(140)); }  // sometimes over the 128-byte limit
  std::string DcId(const core::Topology& topology) {
    return Pick(2) == 0 ? topology.dc(Pick(topology.dc_count())).id : Junk(1 + Pick(70));
  }
  uint32_t Pick(size_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

 private:
  static constexpr const char* kMapped[] = {"US", "PR", "CA", "MX", "BR", "DE", "FR", "IN",
                                            "SG", "HK", "JP", "AU", "CN", "GB", "NO"};
  char Letter() {
    const char c = static_cast<char>('A' + Pick(26));
    return Pick(4) == 0 ? static_cast<char>(c - 'A' + 'a') : c;
  }
  // Valid UTF-8 (proto3 clients refuse to send anything else), otherwise anything.
  std::string Junk(size_t n) {
    static constexpr char kChars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/ {}\"\\\x01";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      if (Pick(20) == 0) {
        s.append("\xc3\xa9");  // é
      } else {
        s.push_back(kChars[Pick(sizeof(kChars) - 1)]);
      }
    }
    return s;
  }
  std::mt19937 rng_;
};

TEST(CardinalityTest, FloodOfRandomRequestsStaysWithinTheConfigsSeries) {
  TestServer t;
  auto topology = t.server().state().Current()->topology;
  ASSERT_EQ(topology->region_count(), 10u);
  ASSERT_EQ(topology->dc_count(), 21u);
  const std::map<std::string, size_t> expected = Expected(*topology);
  EXPECT_EQ(SeriesByFamily(t.registry()), expected);
  // us names ca, latam (mx-qro) and eu (eu-ams); 22 of the 90 cross-region pairs in all.
  EXPECT_EQ(expected.at("dcdir_cross_border_fallback_total"), 22u);
  EXPECT_EQ(testing::SeriesCount(t.registry(), "dcdir_directory_requests_total"), 187u);

  t.Report(v1::HEALTH_STATUS_HEALTHY);
  {  // a tenant policy, so that tenant control excludes DCs too
    v1::SetTenantPolicyRequest request;
    request.mutable_policy()->set_tenant_id("acme");
    request.mutable_policy()->set_home_region("eu");
    v1::TenantPolicy response;
    auto context = t.AuthContext();
    ASSERT_TRUE(t.admin().SetTenantPolicy(context.get(), request, &response).ok());
  }

  Flood flood(20250101);
  constexpr int kRequests = 3000;
  int directory_calls = 0;
  int directory_errors = 0;  // GetDirectory calls refused for a reason other than bad input
  std::map<grpc::StatusCode, int> codes;
  for (int i = 0; i < kRequests; ++i) {
    if (i == kRequests / 3) {  // a US outage: fallbacks, cross-border counts
      t.Report(v1::HEALTH_STATUS_DOWN, {"us-sjc", "us-den", "us-nyc", "us-iad"});
    }
    if (i == 2 * kRequests / 3) t.Report(v1::HEALTH_STATUS_DOWN, {"cn-pek", "cn-sha"});
    v1::GetDirectoryRequest request;
    request.set_client_country(flood.Country());
    request.set_tenant_id(flood.Tenant());
    request.set_client_id(flood.ClientId());
    request.set_max_secondaries(flood.Pick(80));
    if (i % 10 == 9) {  // an operator RPC: with the admin token
      v1::DirectoryExplanation e;
      auto context = t.AuthContext();
      ++codes[t.directory().ExplainDirectory(context.get(), request, &e).error_code()];
    } else {
      grpc::ClientContext context;
      v1::Directory d;
      const grpc::StatusCode code = t.directory().GetDirectory(&context, request, &d).error_code();
      ++codes[code];
      if (code != grpc::StatusCode::OK && code != grpc::StatusCode::INVALID_ARGUMENT) {
        ++directory_errors;
      }
    }
    ++directory_calls;

    grpc::ClientContext report_context;
    v1::FallbackReport report;
    report.set_client_country(flood.Country());
    report.set_tenant_id(flood.Tenant());
    report.set_datacenter_id(flood.DcId(*topology));
    report.set_attempts(flood.Pick(2000));
    report.set_fallback(flood.Pick(2) == 0);
    v1::ReportFallbackResponse response;
    t.reporting().ReportFallback(&report_context, report, &response);

    if (i % 5 == 0) {  // health reports for made-up and real DCs (the real ones stay as they are)
      v1::HealthReport health;
      health.set_datacenter_id(flood.Pick(2) == 0 ? flood.DcId(*topology) : "no-such-dc");
      health.set_status(static_cast<v1::HealthStatus>(flood.Pick(6)));
      health.set_congestion(flood.Pick(3) - 0.5);
      v1::ReportHealthResponse health_response;
      auto context2 = t.AuthContext(flood.Pick(3) == 0 ? "wrong-token" : "");
      // Only reports for made-up DC ids or invalid ones are sent, so the outages above stay.
      if (topology->DcIndex(health.datacenter_id()) == core::kNoIndex ||
          health.status() == v1::HEALTH_STATUS_UNSPECIFIED) {
        t.reporting().ReportHealth(context2.get(), health, &health_response);
      }
    }
  }
  for (const auto& [code, n] : codes) {
    std::cerr << "flood: " << metrics::CodeName(code) << " x" << n << "\n";
  }
  // Every kind of answer was exercised; every call reached the server.
  EXPECT_EQ(codes[grpc::StatusCode::INTERNAL], 0);
  EXPECT_GT(codes[grpc::StatusCode::OK], 0);
  EXPECT_GT(codes[grpc::StatusCode::INVALID_ARGUMENT], 0);
  EXPECT_GT(codes[grpc::StatusCode::UNAVAILABLE], 0);  // CN clients after the CN outage
  EXPECT_GT(codes[grpc::StatusCode::FAILED_PRECONDITION], 0);  // acme's clients in cn
  EXPECT_GT(Sum(t.registry(), "dcdir_cross_border_fallback_total"), 0);
  EXPECT_GT(Sum(t.registry(), "dcdir_client_fallbacks_total"), 0);
  // Every call was counted, in the pre-created series.
  EXPECT_EQ(Sum(t.registry(), "dcdir_directory_requests_total"), directory_calls);
  // Each of them counted once under its reason (Explain answers OK with an outcome instead).
  EXPECT_GT(directory_errors, 0);
  EXPECT_EQ(Sum(t.registry(), "dcdir_directory_errors_total"), directory_errors);

  // The region-pair families grew by pairs first seen in the flood (fallback reports from any
  // region to any DC), never past the pairs of configured regions; the rest did not change.
  std::map<std::string, size_t> after = SeriesByFamily(t.registry());
  const size_t r = topology->region_count();
  EXPECT_GT(after["dcdir_client_fallbacks_total"], expected.at("dcdir_client_fallbacks_total"));
  EXPECT_LE(after["dcdir_client_fallbacks_total"], r * r * 2);
  EXPECT_GE(after["dcdir_cross_border_fallback_total"],
            expected.at("dcdir_cross_border_fallback_total"));
  EXPECT_LE(after["dcdir_cross_border_fallback_total"], r * (r - 1));
  std::set<std::string> region_ids;
  for (const core::Region& region : topology->world().regions) region_ids.insert(region.id);
  // Policy-mandated cross-border answers (acme is homed in eu) are counted per region pair,
  // created on first use like the fallback pairs.
  EXPECT_GT(after["dcdir_policy_cross_border_total"], 0u);
  EXPECT_LE(after["dcdir_policy_cross_border_total"], r * (r - 1));
  for (const char* family : {"dcdir_client_fallbacks_total", "dcdir_cross_border_fallback_total",
                             "dcdir_policy_cross_border_total"}) {
    auto labels = LabelValues(t.registry(), family);
    for (const char* label : {"client_region", "dc_region"}) {
      for (const std::string& v : labels[label]) {
        EXPECT_TRUE(region_ids.count(v)) << family << " " << label << "=" << v;
      }
    }
    after.erase(family);
  }
  std::map<std::string, size_t> rest = expected;
  rest.erase("dcdir_client_fallbacks_total");
  rest.erase("dcdir_cross_border_fallback_total");
  EXPECT_EQ(after, rest);
}

// A reload that renumbers regions: answers computed on the old snapshot are counted under the
// old topology's labels, even after the metrics have switched to the new topology; an index of
// a topology never registered is dropped, not counted under another topology's labels.
TEST(MetricsTopologyTest, EachIndexIsCountedUnderItsOwnTopologysLabels) {
  const std::shared_ptr<const core::Topology> old_topology = testing::ExampleTopology();
  core::World reversed = old_topology->world();
  std::reverse(reversed.regions.begin(), reversed.regions.end());
  auto compiled = core::Topology::Compile(reversed);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const std::shared_ptr<const core::Topology> new_topology = *compiled;
  const uint32_t us_old = old_topology->RegionIndex("us");
  const uint32_t us_new = new_topology->RegionIndex("us");
  ASSERT_NE(us_old, us_new);  // the reload renumbers us
  const std::string at_old_index_in_new = new_topology->region_config(us_old).id;

  metrics::Metrics m;
  m.SetTopology(*old_topology);
  m.SetTopology(*new_topology);  // the reload: metrics switch first
  // An answer of the old snapshot: us clients sent to ca-yyz (a cross-border fallback).
  core::Answer answer;
  answer.region = us_old;
  answer.fallback_active = true;
  answer.cross_border_fallback_dcs.push_back(old_topology->DcIndex("ca-yyz"));
  m.RecordAnswer(*old_topology, answer);
  m.ObserveRequest(metrics::Method::kGetDirectory, old_topology.get(), us_old, 0,
                   absl::ZeroDuration());
  const prometheus::Registry& r = *m.registry();
  EXPECT_EQ(testing::MetricValue(r, "dcdir_fallback_responses_total", {{"client_region", "us"}}),
            1.0);
  EXPECT_EQ(testing::MetricValue(r, "dcdir_cross_border_fallback_total",
                                 {{"client_region", "us"}, {"dc_region", "ca"}}),
            1.0);
  EXPECT_EQ(testing::MetricValue(r, "dcdir_directory_requests_total",
                                 {{"client_region", "us"}, {"code", "OK"}}),
            1.0);
  EXPECT_EQ(testing::MetricValue(r, "dcdir_fallback_responses_total",
                                 {{"client_region", at_old_index_in_new}}),
            0.0);
  // A topology never registered: nothing is counted.
  auto stranger = core::Topology::Compile(old_topology->world());
  ASSERT_TRUE(stranger.ok());
  m.RecordAnswer(**stranger, answer);
  EXPECT_EQ(testing::MetricValue(r, "dcdir_fallback_responses_total", {{"client_region", "us"}}),
            1.0);
}

}  // namespace
}  // namespace dcdir
