// `dcdir-server --check_config` run as a process: the readable report, --json, --tenants_file
// and the exit codes (0 ok, 1 config or tenants file error, 2 below --min_compliant_dcs).

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace dcdir {
namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

struct ProcessResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// Runs dcdir-server with `args` (already shell-quoted where needed).
ProcessResult RunServer(const std::string& args) {
  const std::string command = absl::StrCat(DCDIR_SERVER_BIN, " ", args, " 2>&1");
  ProcessResult run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string Check(const std::string& extra = "") {
  return absl::StrCat("--check_config --config=", DCDIR_WORLD_YAML, " ", extra);
}

std::string TempFile(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", ::getpid(), "-", name);
  std::ofstream(path) << contents;
  return path;
}

const Value& Field(const Struct& s, const std::string& key) {
  static const Value kNull;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? kNull : it->second;
}

std::vector<std::string> Strings(const Value& v) {
  std::vector<std::string> out;
  for (const Value& e : v.list_value().values()) out.push_back(e.string_value());
  return out;
}

// The element of a list of objects whose `key` is `value`.
const Struct* Find(const Value& list, const std::string& key, const std::string& value) {
  for (const Value& e : list.list_value().values()) {
    if (Field(e.struct_value(), key).string_value() == value) return &e.struct_value();
  }
  return nullptr;
}

TEST(CheckConfigTest, ExampleWorldReportWithWhatIfLines) {
  const ProcessResult run = RunServer(Check());
  EXPECT_EQ(run.exit_code, 0) << run.out;
  // The policy report, then the compliance check.
  EXPECT_THAT(run.out, HasSubstr("  primaries:        us-sjc us-den us-nyc us-iad\n"));
  EXPECT_THAT(run.out, HasSubstr("\nif us fails: us → ca-yyz, ca-yvr, mx-qro, eu-ams (fallback; "
                                 "cross-border: ca-yyz ca-yvr)\n"));
  EXPECT_THAT(run.out, HasSubstr("\nif cn fails: cn → no compliant DC (fail closed)\n"));
  EXPECT_THAT(run.out, HasSubstr("\nif eu fails: eu → no compliant DC (fail closed)\n"));
  EXPECT_THAT(run.out, HasSubstr("\n  if us fails: (none)\n"));
  EXPECT_THAT(run.out, HasSubstr("\n  if cn fails: cn\n"));
  EXPECT_THAT(run.out, HasSubstr("\nOK: every client region has at least 1 compliant DC(s)\n"));
}

TEST(CheckConfigTest, JsonIsOneDocumentWithPolicyAndCompliance) {
  const ProcessResult run = RunServer(Check("--json"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(run.out, &doc).ok()) << run.out;
  const Struct& policy = Field(doc, "policy").struct_value();
  EXPECT_EQ(Field(policy, "default_region").string_value(), "us");
  EXPECT_EQ(Field(policy, "regions").list_value().values_size(), 10);

  const Struct& compliance = Field(doc, "compliance").struct_value();
  EXPECT_EQ(Field(compliance, "ok").bool_value(), true);
  EXPECT_EQ(Field(compliance, "min_compliant_dcs").number_value(), 1);
  EXPECT_EQ(Field(compliance, "config_version").string_value(),
            Field(policy, "version").string_value());
  EXPECT_EQ(Field(compliance, "shortfalls").list_value().values_size(), 0);

  const Struct* cn = Find(Field(compliance, "regions"), "client_region", "cn");
  ASSERT_NE(cn, nullptr);
  EXPECT_EQ(Field(*cn, "compliant_dcs").number_value(), 2);
  EXPECT_THAT(Strings(Field(*cn, "datacenters")), ElementsAre("cn-pek", "cn-sha"));
  const Struct* us = Find(Field(compliance, "regions"), "client_region", "us");
  ASSERT_NE(us, nullptr);
  EXPECT_EQ(Field(*us, "compliant_dcs").number_value(), 19);  // all but the two cn DCs

  const Value& what_if = Field(compliance, "what_if");
  ASSERT_EQ(what_if.list_value().values_size(), 10);
  const Struct* us_fails = Find(what_if, "failed_region", "us");
  ASSERT_NE(us_fails, nullptr);
  EXPECT_THAT(Strings(Field(*us_fails, "down")),
              ElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  EXPECT_THAT(Strings(Field(*us_fails, "fail_closed")), ElementsAre());
  const Struct* us_clients = Find(Field(*us_fails, "clients"), "client_region", "us");
  ASSERT_NE(us_clients, nullptr);
  const Value& groups = Field(*us_clients, "groups");
  ASSERT_EQ(groups.list_value().values_size(), 1);
  const Struct& group = groups.list_value().values(0).struct_value();
  EXPECT_THAT(Strings(Field(group, "countries")), ElementsAre("US", "PR"));
  EXPECT_EQ(Field(group, "unmapped_countries").bool_value(), true);
  EXPECT_EQ(Field(group, "error").kind_case(), Value::kNullValue);
  EXPECT_THAT(Strings(Field(group, "primaries")), ElementsAre());
  EXPECT_THAT(Strings(Field(group, "secondaries")),
              ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_EQ(Field(group, "fallback").bool_value(), true);
  EXPECT_THAT(Strings(Field(group, "cross_border")), ElementsAre("ca-yyz", "ca-yvr"));

  const Struct* cn_fails = Find(what_if, "failed_region", "cn");
  ASSERT_NE(cn_fails, nullptr);
  EXPECT_THAT(Strings(Field(*cn_fails, "fail_closed")), ElementsAre("cn"));
  const Struct* cn_clients = Find(Field(*cn_fails, "clients"), "client_region", "cn");
  ASSERT_NE(cn_clients, nullptr);
  EXPECT_EQ(Field(*cn_clients, "fail_closed").bool_value(), true);
  EXPECT_EQ(Field(Field(*cn_clients, "groups").list_value().values(0).struct_value(), "error")
                .string_value(),
            "NO_HEALTHY_COMPLIANT_DATACENTER");
}

TEST(CheckConfigTest, BelowTheMinimumExitsTwo) {
  const ProcessResult run = RunServer(Check("--min_compliant_dcs=3"));
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_THAT(run.out, HasSubstr("\nBELOW MINIMUM: client region cn has 2 compliant DC(s), "
                                 "minimum 3\n"));
  EXPECT_THAT(run.out, Not(HasSubstr("BELOW MINIMUM: client region eu")));  // eu has exactly 3
  EXPECT_THAT(run.out, Not(HasSubstr("\nOK: ")));

  const ProcessResult json = RunServer(Check("--min_compliant_dcs=3 --json"));
  EXPECT_EQ(json.exit_code, 2) << json.out;
  Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &doc).ok()) << json.out;
  const Struct& compliance = Field(doc, "compliance").struct_value();
  EXPECT_EQ(Field(compliance, "ok").bool_value(), false);
  const Value& shortfalls = Field(compliance, "shortfalls");
  ASSERT_EQ(shortfalls.list_value().values_size(), 1);
  const Struct& s = shortfalls.list_value().values(0).struct_value();
  EXPECT_EQ(Field(s, "client_region").string_value(), "cn");
  EXPECT_EQ(Field(s, "compliant_dcs").number_value(), 2);
  EXPECT_EQ(Field(s, "tenant").kind_case(), Value::kNullValue);
}

TEST(CheckConfigTest, TenantsFileIsCheckedToo) {
  const std::string tenants = TempFile("tenants.yaml", R"(tenants:
  - {tenant_id: acme, home_region: us, allowed_regions: [us, ca]}
  - {tenant_id: us-only, home_region: us}
)");
  const ProcessResult run = RunServer(Check(absl::StrCat("--tenants_file=", tenants)));
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("\ntenant acme (home us, allowed us ca):\n"));
  EXPECT_THAT(run.out, HasSubstr("\ntenant acme: if us fails: us → ca-yyz, ca-yvr (fallback; "
                                 "cross-border: ca-yyz ca-yvr)\n"));
  // acme's clients in Europe: eu-residency keeps them in Europe, acme keeps them out of it.
  EXPECT_THAT(run.out, HasSubstr("\ntenant acme: if us fails: eu → no compliant DC (fail "
                                 "closed)\n"));
  EXPECT_THAT(run.out, HasSubstr("\ntenant us-only: if us fails: us → no compliant DC (fail "
                                 "closed)\n"));

  // A tenant's home region counts against the minimum: us-only has 4 DCs for its US clients.
  const ProcessResult strict =
      RunServer(Check(absl::StrCat("--tenants_file=", tenants, " --min_compliant_dcs=5")));
  EXPECT_EQ(strict.exit_code, 2) << strict.out;
  EXPECT_THAT(strict.out, HasSubstr("\nBELOW MINIMUM: client region eu has 3 compliant DC(s), "
                                    "minimum 5\n"));
  EXPECT_THAT(strict.out, HasSubstr("\nBELOW MINIMUM: client region cn has 2 compliant DC(s), "
                                    "minimum 5\n"));
  EXPECT_THAT(strict.out, HasSubstr("\nBELOW MINIMUM: tenant us-only, client region us has 4 "
                                    "compliant DC(s), minimum 5\n"));
  EXPECT_THAT(strict.out, Not(HasSubstr("BELOW MINIMUM: tenant acme")));  // 6 DCs in us ∪ ca
  std::remove(tenants.c_str());
}

TEST(CheckConfigTest, ConfigAndTenantsFileErrorsExitOne) {
  const ProcessResult missing = RunServer("--check_config --config=/nonexistent/world.yaml");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_THAT(missing.out, HasSubstr("config error: "));

  const std::string tenants = TempFile("bad-tenants.yaml", R"(tenants:
  - {tenant_id: acme, home_region: us}
  - {tenant_id: acme, home_region: eu}
)");
  const ProcessResult bad = RunServer(Check(absl::StrCat("--tenants_file=", tenants)));
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr(absl::StrCat("tenants file error: ", tenants,
                                              ":3: tenant `acme` is listed twice")));
  std::remove(tenants.c_str());

  const std::string duplicate_key = TempFile("duplicate-key-tenants.yaml", R"(tenants:
  - tenant_id: acme
    home_region: us
    home_region: eu
)");
  const ProcessResult dup = RunServer(Check(absl::StrCat("--tenants_file=", duplicate_key)));
  EXPECT_EQ(dup.exit_code, 1) << dup.out;
  EXPECT_THAT(dup.out, HasSubstr(absl::StrCat("tenants file error: ", duplicate_key,
                                              ":4: duplicate key \"home_region\" in tenants[0] "
                                              "(acme) (first at line 3)")));
  std::remove(duplicate_key.c_str());
}

// A policy naming a region the config no longer has (as stored policies are after a reload
// removed the region): reported, and an unknown home region is a shortfall (exit 2).
TEST(CheckConfigTest, OrphanedTenantPoliciesAreReported) {
  const std::string tenants = TempFile("orphan-tenants.yaml", R"(tenants:
  - {tenant_id: acme, home_region: us, allowed_regions: [ca, atlantis]}
  - {tenant_id: globex, home_region: mars}
)");
  const ProcessResult run = RunServer(Check(absl::StrCat("--tenants_file=", tenants)));
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_THAT(run.out, HasSubstr("\ntenant acme (home us, allowed ca atlantis):\n  allowed "
                                 "region atlantis does not exist in this config: ignored\n"));
  EXPECT_THAT(run.out, HasSubstr("\ntenant globex (home mars, allowed (none)):\n  home region mars "
                                 "does not exist in this config: the tenant's clients are "
                                 "refused every DC (fail closed)\n"));
  EXPECT_THAT(run.out, HasSubstr("\nBELOW MINIMUM: tenant globex, client region mars has 0 "
                                 "compliant DC(s), minimum 1\n"));
  std::remove(tenants.c_str());
}

}  // namespace
}  // namespace dcdir
