#include "service/config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "service/core/policy.h"
#include "service/core/ranking.h"
#include "service/core/topology.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace dcdir::config {
namespace {

#define DCDIR_CONFIG_RETURN_IF_ERROR(expr) \
  do {                                     \
    absl::Status status_ = (expr);         \
    if (!status_.ok()) return status_;     \
  } while (0)

#define DCDIR_CONFIG_CONCAT_INNER(a, b) a##b
#define DCDIR_CONFIG_CONCAT(a, b) DCDIR_CONFIG_CONCAT_INNER(a, b)
#define DCDIR_CONFIG_ASSIGN_OR_RETURN(lhs, expr) \
  DCDIR_CONFIG_ASSIGN_OR_RETURN_IMPL(DCDIR_CONFIG_CONCAT(statusor_, __LINE__), lhs, expr)
#define DCDIR_CONFIG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) return tmp.status();                      \
  lhs = std::move(tmp).value()

// Limits that keep a config (and the metrics labelled from it) sane.
constexpr uint32_t kMaxSecondariesSetting = 64;
constexpr uint64_t kMaxCapacitySessions = uint64_t{1} << 40;

// 1-based line of a node; 0 when the node has no position.
int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

// How a node looks, for "got ..." in messages. Long scalars are cut.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar: {
      std::string s = node.Scalar();
      if (s.size() > 64) s = absl::StrCat(s.substr(0, 61), "...");
      return absl::StrCat("\"", absl::CEscape(s), "\"");
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "something else";
}

// "datacenters[3]", or "datacenters[3] (us-sjc)" when the item has a readable id (for errors met
// before the id itself is validated).
std::string ItemPath(const char* list, size_t i, const YAML::Node& item, const char* id_key) {
  std::string path = absl::StrCat(list, "[", i, "]");
  if (item.IsMap()) {
    const YAML::Node id = item[id_key];
    if (id.IsDefined() && id.IsScalar() && !id.Scalar().empty() && id.Scalar().size() <= 63) {
      absl::StrAppend(&path, " (", absl::CEscape(id.Scalar()), ")");
    }
  }
  return path;
}

// A plain (unquoted) scalar: numbers must not be quoted.
bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

// [a-z0-9][a-z0-9-]{0,62}
bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok(id[0])) return false;
  for (char c : id.substr(1))
    if (!ok(c) && c != '-') return false;
  return true;
}

// Two upper-case ASCII letters (ISO 3166-1 alpha-2 form).
bool IsValidCountry(absl::string_view c) {
  return c.size() == 2 && absl::ascii_isupper(c[0]) && absl::ascii_isupper(c[1]);
}

// host:port, host a DNS name, IPv4 address or [IPv6] address; port 1..65535.
bool IsValidEndpoint(absl::string_view ep) {
  size_t colon = ep.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  absl::string_view host = ep.substr(0, colon);
  absl::string_view port = ep.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (!absl::ascii_isdigit(c)) return false;
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
    return false;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2))
      if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return false;
    return true;
  }
  if (host.size() > 253) return false;
  for (char c : host)
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  return host.front() != '.' && host.front() != '-';
}

// One key/value of a YAML mapping.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  // Line for messages about the value: the value's own line when it has content, else the key's.
  int line() const {
    return (value.IsDefined() && !value.IsNull() && LineOf(value) > 0) ? LineOf(value)
                                                                        : LineOf(key_node);
  }
};

// A mapping read from YAML, with duplicate and unknown keys rejected.
struct Fields {
  YAML::Node node;
  std::string path;  // e.g. "datacenters.us-sjc"
  std::vector<Entry> entries;

  const Entry* Find(absl::string_view key) const {
    for (const Entry& e : entries)
      if (e.key == key) return &e;
    return nullptr;
  }
  std::string Sub(absl::string_view key) const {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  }
};

// A DC id, region id or country met in a list, with its position.
struct Ref {
  std::string value;
  YAML::Node node;
};

// Where each parsed thing came from, for cross-reference errors.
struct RegionSource {
  YAML::Node node;
  std::vector<Ref> primaries;
  std::vector<Ref> secondaries;
};

class Loader {
 public:
  explicit Loader(std::string_view file_name) : file_(file_name) {}

  // The accepted world, compiled.
  absl::StatusOr<std::shared_ptr<const core::Topology>> Load(std::string_view text);

 private:
  absl::Status ErrorAtLine(int line, absl::string_view message) const {
    if (line <= 0) return absl::InvalidArgumentError(absl::StrCat(file_, ": ", message));
    return absl::InvalidArgumentError(absl::StrCat(file_, ":", line, ": ", message));
  }
  absl::Status ErrorAt(const YAML::Node& node, absl::string_view message) const {
    return ErrorAtLine(LineOf(node), message);
  }

  absl::StatusOr<Fields> ReadMap(const YAML::Node& node, int line, std::string path,
                                 std::initializer_list<absl::string_view> allowed,
                                 bool any_key = false) const;
  absl::StatusOr<const Entry*> Require(const Fields& fields, absl::string_view key) const;
  absl::StatusOr<std::string> ReadString(const Entry& e, const std::string& path) const;
  absl::StatusOr<std::string> ReadId(const Entry& e, const std::string& path) const;
  absl::StatusOr<double> ReadNumber(const Entry& e, const std::string& path, double lo,
                                    double hi) const;
  absl::StatusOr<uint64_t> ReadUint(const Entry& e, const std::string& path, uint64_t lo,
                                    uint64_t hi) const;
  absl::StatusOr<absl::Duration> ReadDuration(const Entry& e, const std::string& path) const;
  absl::StatusOr<std::vector<Ref>> ReadStringList(const Entry& e, const std::string& path) const;
  absl::StatusOr<core::GeoPoint> ReadPoint(const Fields& f) const;

  absl::Status ReadThresholds(const Entry& e);
  absl::Status ReadRanking(const Entry& e);
  absl::Status ReadSubdivisions(const Entry& e);
  absl::StatusOr<bool> ReadBool(const Entry& e, const std::string& path) const;
  absl::Status ReadSelfPreservation(const Entry& e);
  absl::Status ReadAllowLoosening(const Entry& e);
  absl::Status ReadRegions(const Entry& e);
  absl::Status ReadDatacenters(const Entry& e);
  absl::Status CheckRegionLists();
  absl::Status ReadCountries(const Entry& e);
  absl::Status ReadDefaultRegion(const Entry& e);
  absl::Status ReadDenyRules(const Entry& e);
  absl::StatusOr<std::vector<core::Condition>> ReadSelector(const Entry& e,
                                                            const std::string& path,
                                                            bool clients) const;
  absl::Status CheckCandidatesAllowed(const core::Topology& topology) const;

  std::string file_;
  core::World world_;
  std::vector<RegionSource> region_sources_;
  absl::flat_hash_map<std::string, size_t> region_index_;
  absl::flat_hash_map<std::string, size_t> dc_index_;
  absl::flat_hash_map<std::string, size_t> country_index_;  // into world_.countries
  std::vector<YAML::Node> subdivision_nodes_;  // per world_.subdivisions entry, its key
  int spill_start_line_ = 0;                   // line of ranking.spill_start, 0 when default
};

absl::StatusOr<Fields> Loader::ReadMap(const YAML::Node& node, int line, std::string path,
                                       std::initializer_list<absl::string_view> allowed,
                                       bool any_key) const {
  if (!node.IsMap()) {
    return ErrorAtLine(line, absl::StrCat(path, " must be a mapping, got ", Describe(node)));
  }
  Fields fields;
  fields.node = node;
  fields.path = std::move(path);
  // By value: yaml-cpp's `it->first` lives in a temporary proxy (a reference to it dangles).
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      return ErrorAt(key, absl::StrCat("keys of ", fields.path, " must be plain words, got ",
                                       Describe(key)));
    }
    std::string name = key.Scalar();
    if (const Entry* first = fields.Find(name)) {
      return ErrorAt(key, absl::StrCat("duplicate key \"", absl::CEscape(name), "\" in ",
                                       fields.path.empty() ? "the top level" : fields.path,
                                       " (first at line ", LineOf(first->key_node), ")"));
    }
    if (!any_key) {
      bool known = false;
      for (absl::string_view a : allowed) known = known || a == name;
      if (!known) {
        return ErrorAt(key, absl::StrCat("unknown key \"", absl::CEscape(name), "\" in ",
                                         fields.path.empty() ? "the top level" : fields.path,
                                         "; expected one of: ", absl::StrJoin(allowed, ", ")));
      }
    }
    fields.entries.push_back(Entry{std::move(name), key, value});
  }
  return fields;
}

absl::StatusOr<const Entry*> Loader::Require(const Fields& fields, absl::string_view key) const {
  const Entry* e = fields.Find(key);
  if (e == nullptr) {
    return ErrorAt(fields.node, absl::StrCat(fields.path.empty() ? "the file" : fields.path,
                                             " is missing the required key \"", key, "\""));
  }
  return e;
}

absl::StatusOr<std::string> Loader::ReadString(const Entry& e, const std::string& path) const {
  if (!e.value.IsScalar()) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must be a string, got ", Describe(e.value)));
  }
  if (e.value.Scalar().empty()) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must not be empty"));
  }
  return e.value.Scalar();
}

absl::StatusOr<std::string> Loader::ReadId(const Entry& e, const std::string& path) const {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(std::string id, ReadString(e, path));
  if (!IsValidId(id)) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " \"", absl::CEscape(id),
                                              "\" is not a valid id (lower-case letters, digits "
                                              "and '-', starting with a letter or digit, at "
                                              "most 63 characters)"));
  }
  return id;
}

absl::StatusOr<bool> Loader::ReadBool(const Entry& e, const std::string& path) const {
  if (IsPlainScalar(e.value)) {
    if (e.value.Scalar() == "true") return true;
    if (e.value.Scalar() == "false") return false;
  }
  return ErrorAtLine(e.line(),
                     absl::StrCat(path, " must be true or false, got ", Describe(e.value)));
}

absl::StatusOr<double> Loader::ReadNumber(const Entry& e, const std::string& path, double lo,
                                          double hi) const {
  double v = 0;
  if (!IsPlainScalar(e.value) || !absl::SimpleAtod(e.value.Scalar(), &v) || !std::isfinite(v)) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must be a number, got ", Describe(e.value)));
  }
  if (v < lo || v > hi) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " = ", e.value.Scalar(),
                                              " is out of range [", lo, ", ", hi, "]"));
  }
  return v;
}

absl::StatusOr<uint64_t> Loader::ReadUint(const Entry& e, const std::string& path, uint64_t lo,
                                          uint64_t hi) const {
  uint64_t v = 0;
  bool digits = IsPlainScalar(e.value) && !e.value.Scalar().empty();
  if (digits) {
    for (char c : e.value.Scalar()) digits = digits && absl::ascii_isdigit(c);
  }
  if (!digits || !absl::SimpleAtoi(e.value.Scalar(), &v)) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must be a whole number, got ",
                                              Describe(e.value)));
  }
  if (v < lo || v > hi) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " = ", e.value.Scalar(),
                                              " is out of range [", lo, ", ", hi, "]"));
  }
  return v;
}

absl::StatusOr<absl::Duration> Loader::ReadDuration(const Entry& e,
                                                    const std::string& path) const {
  absl::Duration d;
  if (!e.value.IsScalar() || !absl::ParseDuration(e.value.Scalar(), &d) ||
      d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must be a duration like 500ms, 30s or 1h, got ",
                                              Describe(e.value)));
  }
  if (d <= absl::ZeroDuration()) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " = ", e.value.Scalar(), " must be > 0"));
  }
  return d;
}

absl::StatusOr<std::vector<Ref>> Loader::ReadStringList(const Entry& e,
                                                        const std::string& path) const {
  if (!e.value.IsSequence()) {
    return ErrorAtLine(e.line(), absl::StrCat(path, " must be a list, got ", Describe(e.value)));
  }
  std::vector<Ref> out;
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node item = e.value[i];
    if (!item.IsScalar() || item.Scalar().empty()) {
      return ErrorAt(item.IsNull() ? e.key_node : item,
                     absl::StrCat(path, "[", i, "] must be a string, got ", Describe(item)));
    }
    for (const Ref& seen : out) {
      if (seen.value == item.Scalar()) {
        return ErrorAt(item, absl::StrCat("\"", absl::CEscape(item.Scalar()), "\" is listed twice in ",
                                          path));
      }
    }
    out.push_back(Ref{item.Scalar(), item});
  }
  return out;
}

absl::StatusOr<core::GeoPoint> Loader::ReadPoint(const Fields& f) const {
  core::GeoPoint p;
  DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* lat, Require(f, "lat"));
  DCDIR_CONFIG_ASSIGN_OR_RETURN(p.lat, ReadNumber(*lat, f.Sub("lat"), -90, 90));
  DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* lon, Require(f, "lon"));
  DCDIR_CONFIG_ASSIGN_OR_RETURN(p.lon, ReadNumber(*lon, f.Sub("lon"), -180, 180));
  return p;
}

absl::Status Loader::ReadThresholds(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(
      Fields f, ReadMap(e.value, e.line(), "thresholds",
                        {"congestion_enter", "congestion_exit", "default_health_ttl",
                         "max_health_ttl", "min_secondaries", "secondary_attempts", "answer_ttl"}));
  core::Thresholds& t = world_.thresholds;
  if (const Entry* x = f.Find("congestion_enter")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(t.congestion_enter, ReadNumber(*x, f.Sub(x->key), 0, 1));
  }
  if (const Entry* x = f.Find("congestion_exit")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(t.congestion_exit, ReadNumber(*x, f.Sub(x->key), 0, 1));
  }
  if (!(t.congestion_exit < t.congestion_enter)) {
    const Entry* x = f.Find("congestion_exit");
    if (x == nullptr) x = f.Find("congestion_enter");
    return ErrorAtLine(x->line(),
                       absl::StrCat("thresholds.congestion_exit (", t.congestion_exit,
                                    ") must be lower than thresholds.congestion_enter (",
                                    t.congestion_enter, ")"));
  }
  if (const Entry* x = f.Find("default_health_ttl")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(t.default_health_ttl, ReadDuration(*x, f.Sub(x->key)));
  }
  if (const Entry* x = f.Find("max_health_ttl")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(t.max_health_ttl, ReadDuration(*x, f.Sub(x->key)));
  }
  if (t.max_health_ttl < t.default_health_ttl) {
    const Entry* x = f.Find("max_health_ttl");
    if (x == nullptr) x = f.Find("default_health_ttl");
    return ErrorAtLine(x->line(),
                       absl::StrCat("thresholds.max_health_ttl (",
                                    absl::FormatDuration(t.max_health_ttl),
                                    ") must not be shorter than thresholds.default_health_ttl (",
                                    absl::FormatDuration(t.default_health_ttl), ")"));
  }
  if (const Entry* x = f.Find("answer_ttl")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(t.answer_ttl, ReadDuration(*x, f.Sub(x->key)));
  }
  if (const Entry* x = f.Find("min_secondaries")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(uint64_t v,
                                  ReadUint(*x, f.Sub(x->key), 0, kMaxSecondariesSetting));
    t.min_secondaries = static_cast<uint32_t>(v);
  }
  if (const Entry* x = f.Find("secondary_attempts")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(uint64_t v,
                                  ReadUint(*x, f.Sub(x->key), 0, kMaxSecondariesSetting));
    t.secondary_attempts = static_cast<uint32_t>(v);
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadSelfPreservation(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(
      Fields f, ReadMap(e.value, e.line(), "self_preservation",
                        {"enabled", "min_reporting_dcs", "expired_share", "window",
                         "max_duration"}));
  core::SelfPreservationConfig& c = world_.self_preservation;
  if (const Entry* x = f.Find("enabled")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(c.enabled, ReadBool(*x, f.Sub(x->key)));
  }
  if (const Entry* x = f.Find("min_reporting_dcs")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(uint64_t v, ReadUint(*x, f.Sub(x->key), 2, 1'000'000));
    c.min_reporting_dcs = static_cast<uint32_t>(v);
  }
  if (const Entry* x = f.Find("expired_share")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(c.expired_share, ReadNumber(*x, f.Sub(x->key), 0.01, 1));
  }
  if (const Entry* x = f.Find("window")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(c.window, ReadDuration(*x, f.Sub(x->key)));
  }
  if (const Entry* x = f.Find("max_duration")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(c.max_duration, ReadDuration(*x, f.Sub(x->key)));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadAllowLoosening(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(std::string version, ReadString(e, "allow_loosening_from"));
  bool hex = version.size() == 16;
  for (char ch : version) hex = hex && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
  if (!hex) {
    return ErrorAtLine(e.line(), absl::StrCat("allow_loosening_from \"", absl::CEscape(version),
                                              "\" is not a config version (16 lower-case hex "
                                              "digits, as served in config_version)"));
  }
  world_.allow_loosening_from = std::move(version);
  return absl::OkStatus();
}

absl::Status Loader::ReadRegions(const Entry& e) {
  if (!e.value.IsSequence() || e.value.size() == 0) {
    return ErrorAtLine(e.line(),
                       absl::StrCat("regions must be a non-empty list, got ", Describe(e.value)));
  }
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node item = e.value[i];
    std::string path = ItemPath("regions", i, item, "id");
    int line = LineOf(item) > 0 ? LineOf(item) : e.line();
    DCDIR_CONFIG_ASSIGN_OR_RETURN(
        Fields f, ReadMap(item, line, path,
                          {"id", "name", "reference", "primaries", "secondaries"}));
    core::Region region;
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* id, Require(f, "id"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(region.id, ReadId(*id, f.Sub("id")));
    if (auto it = region_index_.find(region.id); it != region_index_.end()) {
      return ErrorAtLine(id->line(),
                         absl::StrCat("duplicate region id \"", region.id, "\" (first at line ",
                                      LineOf(region_sources_[it->second].node), ")"));
    }
    f.path = absl::StrCat("regions.", region.id);
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* name, Require(f, "name"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(region.name, ReadString(*name, f.Sub("name")));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* ref, Require(f, "reference"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(Fields rf,
                                  ReadMap(ref->value, ref->line(), f.Sub("reference"), {"lat", "lon"}));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(region.reference, ReadPoint(rf));

    RegionSource src;
    src.node = item;
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* prim, Require(f, "primaries"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(src.primaries, ReadStringList(*prim, f.Sub("primaries")));
    if (src.primaries.empty()) {
      return ErrorAtLine(prim->line(), absl::StrCat(f.Sub("primaries"), " must not be empty"));
    }
    if (const Entry* sec = f.Find("secondaries")) {
      DCDIR_CONFIG_ASSIGN_OR_RETURN(src.secondaries, ReadStringList(*sec, f.Sub("secondaries")));
    }
    for (const Ref& r : src.primaries) region.primaries.push_back(r.value);
    for (const Ref& r : src.secondaries) region.secondaries.push_back(r.value);
    region_index_[region.id] = world_.regions.size();
    world_.regions.push_back(std::move(region));
    region_sources_.push_back(std::move(src));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadDatacenters(const Entry& e) {
  if (!e.value.IsSequence() || e.value.size() == 0) {
    return ErrorAtLine(e.line(), absl::StrCat("datacenters must be a non-empty list, got ",
                                              Describe(e.value)));
  }
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node item = e.value[i];
    std::string path = ItemPath("datacenters", i, item, "id");
    int line = LineOf(item) > 0 ? LineOf(item) : e.line();
    DCDIR_CONFIG_ASSIGN_OR_RETURN(
        Fields f, ReadMap(item, line, path,
                          {"id", "region", "country", "city", "lat", "lon", "endpoints",
                           "capacity_sessions"}));
    core::DataCenter dc;
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* id, Require(f, "id"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.id, ReadId(*id, f.Sub("id")));
    if (auto it = dc_index_.find(dc.id); it != dc_index_.end()) {
      return ErrorAtLine(id->line(), absl::StrCat("duplicate datacenter id \"", dc.id,
                                                  "\" (first at line ",
                                                  LineOf(e.value[it->second]), ")"));
    }
    f.path = absl::StrCat("datacenters.", dc.id);
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* region, Require(f, "region"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.region, ReadString(*region, f.Sub("region")));
    if (!region_index_.contains(dc.region)) {
      return ErrorAtLine(region->line(),
                         absl::StrCat("region \"", absl::CEscape(dc.region), "\" of datacenter \"",
                                      dc.id, "\" is not defined in regions"));
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* country, Require(f, "country"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.country, ReadString(*country, f.Sub("country")));
    if (!IsValidCountry(dc.country)) {
      return ErrorAtLine(country->line(),
                         absl::StrCat(f.Sub("country"), " \"", absl::CEscape(dc.country),
                                      "\" is not a country code (two upper-case letters, "
                                      "ISO 3166-1 alpha-2)"));
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* city, Require(f, "city"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.city, ReadString(*city, f.Sub("city")));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.location, ReadPoint(f));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* eps, Require(f, "endpoints"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(std::vector<Ref> endpoints,
                                  ReadStringList(*eps, f.Sub("endpoints")));
    if (endpoints.empty()) {
      return ErrorAtLine(eps->line(), absl::StrCat(f.Sub("endpoints"), " must not be empty"));
    }
    for (const Ref& ep : endpoints) {
      if (!IsValidEndpoint(ep.value)) {
        return ErrorAt(ep.node, absl::StrCat("endpoint \"", absl::CEscape(ep.value), "\" in ",
                                             f.Sub("endpoints"),
                                             " is not host:port (port 1-65535)"));
      }
      dc.endpoints.push_back(ep.value);
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* cap, Require(f, "capacity_sessions"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(dc.capacity_sessions,
                                  ReadUint(*cap, f.Sub("capacity_sessions"), 1,
                                           kMaxCapacitySessions));
    dc_index_[dc.id] = world_.datacenters.size();
    world_.datacenters.push_back(std::move(dc));
  }
  return absl::OkStatus();
}

absl::Status Loader::CheckRegionLists() {
  for (size_t r = 0; r < world_.regions.size(); ++r) {
    const core::Region& region = world_.regions[r];
    const RegionSource& src = region_sources_[r];
    for (const auto* list : {&src.primaries, &src.secondaries}) {
      const bool primaries = list == &src.primaries;
      std::string path =
          absl::StrCat("regions.", region.id, primaries ? ".primaries" : ".secondaries");
      for (const Ref& ref : *list) {
        auto it = dc_index_.find(ref.value);
        if (it == dc_index_.end()) {
          return ErrorAt(ref.node, absl::StrCat("datacenter \"", absl::CEscape(ref.value),
                                                "\" in ", path, " is not defined"));
        }
        const core::DataCenter& dc = world_.datacenters[it->second];
        if (primaries && dc.region != region.id) {
          return ErrorAt(ref.node,
                         absl::StrCat("datacenter \"", dc.id, "\" in ", path, " is in region \"",
                                      dc.region, "\", not \"", region.id,
                                      "\" (a region's primaries must be its own datacenters)"));
        }
        if (!primaries) {
          for (const Ref& p : src.primaries) {
            if (p.value == ref.value) {
              return ErrorAt(ref.node,
                             absl::StrCat("datacenter \"", dc.id,
                                          "\" is both a primary and a secondary of region \"",
                                          region.id, "\" (primary at line ", LineOf(p.node), ")"));
            }
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadCountries(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(Fields f, ReadMap(e.value, e.line(), "countries", {}, true));
  for (const Entry& c : f.entries) {
    if (!IsValidCountry(c.key)) {
      return ErrorAt(c.key_node, absl::StrCat("country \"", absl::CEscape(c.key),
                                              "\" in countries is not a country code (two "
                                              "upper-case letters, ISO 3166-1 alpha-2)"));
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(std::string region, ReadString(c, f.Sub(c.key)));
    if (!region_index_.contains(region)) {
      return ErrorAtLine(c.line(), absl::StrCat("region \"", absl::CEscape(region),
                                                "\" of country ", c.key,
                                                " in countries is not defined in regions"));
    }
    country_index_[c.key] = world_.countries.size();
    world_.countries.emplace_back(c.key, std::move(region));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadDefaultRegion(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(std::string region, ReadString(e, "default_region"));
  if (!region_index_.contains(region)) {
    return ErrorAtLine(e.line(), absl::StrCat("default_region \"", absl::CEscape(region),
                                              "\" is not defined in regions"));
  }
  world_.default_region = std::move(region);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<core::Condition>> Loader::ReadSelector(const Entry& e,
                                                                  const std::string& path,
                                                                  bool clients) const {
  absl::StatusOr<Fields> read =
      clients ? ReadMap(e.value, e.line(), path, {"region", "country"})
              : ReadMap(e.value, e.line(), path, {"region", "country", "datacenter"});
  if (!read.ok()) return read.status();
  std::vector<core::Condition> conditions;
  for (const Entry& field : read->entries) {
    core::Condition cond;
    std::string field_path = read->Sub(field.key);
    if (field.key == "region") cond.field = core::SelectorField::kRegion;
    if (field.key == "country") cond.field = core::SelectorField::kCountry;
    if (field.key == "datacenter") cond.field = core::SelectorField::kDataCenter;
    DCDIR_CONFIG_ASSIGN_OR_RETURN(Fields op, ReadMap(field.value, field.line(), field_path,
                                                     {"in", "not_in"}));
    if (op.entries.size() != 1) {
      return ErrorAtLine(field.line(), absl::StrCat(field_path,
                                                    " must have exactly one of \"in\" or "
                                                    "\"not_in\", e.g. {in: [a, b]}"));
    }
    const Entry& list = op.entries[0];
    cond.negated = list.key == "not_in";
    DCDIR_CONFIG_ASSIGN_OR_RETURN(std::vector<Ref> values, ReadStringList(list, op.Sub(list.key)));
    if (values.empty()) {
      return ErrorAtLine(list.line(), absl::StrCat(op.Sub(list.key), " must not be empty"));
    }
    for (const Ref& v : values) {
      switch (cond.field) {
        case core::SelectorField::kRegion:
          if (!region_index_.contains(v.value)) {
            return ErrorAt(v.node, absl::StrCat("region \"", absl::CEscape(v.value), "\" in ",
                                                op.Sub(list.key), " is not defined in regions"));
          }
          break;
        case core::SelectorField::kCountry:
          if (!IsValidCountry(v.value)) {
            return ErrorAt(v.node, absl::StrCat("country \"", absl::CEscape(v.value), "\" in ",
                                                op.Sub(list.key),
                                                " is not a country code (two upper-case "
                                                "letters, ISO 3166-1 alpha-2)"));
          }
          break;
        case core::SelectorField::kDataCenter:
          if (!dc_index_.contains(v.value)) {
            return ErrorAt(v.node, absl::StrCat("datacenter \"", absl::CEscape(v.value), "\" in ",
                                                op.Sub(list.key), " is not defined"));
          }
          break;
      }
      cond.values.push_back(v.value);
    }
    conditions.push_back(std::move(cond));
  }
  return conditions;
}

absl::Status Loader::ReadDenyRules(const Entry& e) {
  if (!e.value.IsSequence()) {
    return ErrorAtLine(e.line(), absl::StrCat("deny_rules must be a list, got ", Describe(e.value)));
  }
  absl::flat_hash_map<std::string, int> names;  // name -> line
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node item = e.value[i];
    int line = LineOf(item) > 0 ? LineOf(item) : e.line();
    DCDIR_CONFIG_ASSIGN_OR_RETURN(
        Fields f, ReadMap(item, line, ItemPath("deny_rules", i, item, "name"),
                          {"name", "description", "clients", "datacenters"}));
    core::DenyRule rule;
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* name, Require(f, "name"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(rule.name, ReadId(*name, f.Sub("name")));
    if (auto it = names.find(rule.name); it != names.end()) {
      return ErrorAtLine(name->line(), absl::StrCat("duplicate deny rule name \"", rule.name,
                                                    "\" (first at line ", it->second, ")"));
    }
    names[rule.name] = name->line();
    f.path = absl::StrCat("deny_rules.", rule.name);
    if (const Entry* d = f.Find("description")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadString(*d, f.Sub("description")).status());
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* clients, Require(f, "clients"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(rule.clients, ReadSelector(*clients, f.Sub("clients"), true));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* dcs, Require(f, "datacenters"));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(rule.datacenters,
                                  ReadSelector(*dcs, f.Sub("datacenters"), false));
    world_.deny_rules.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadRanking(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(
      Fields f, ReadMap(e.value, e.line(), "ranking",
                        {"rtt_base", "path_stretch", "latency_band_absolute",
                         "latency_band_relative", "spill_start", "nearest_secondaries",
                         "rtt_max_age"}));
  core::RankingSettings& r = world_.ranking;
  // Durations here may be 0 (ReadDuration refuses 0): read them as ">= 0".
  auto read_duration = [&](const Entry& x, absl::Duration max) -> absl::StatusOr<absl::Duration> {
    absl::Duration d;
    if (!x.value.IsScalar() || !absl::ParseDuration(x.value.Scalar(), &d) ||
        d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
      return ErrorAtLine(x.line(), absl::StrCat(f.Sub(x.key), " must be a duration like 5ms or 10m, got ",
                                                Describe(x.value)));
    }
    if (d < absl::ZeroDuration() || d > max) {
      return ErrorAtLine(x.line(), absl::StrCat(f.Sub(x.key), " = ", x.value.Scalar(),
                                                " is out of range [0, ", absl::FormatDuration(max), "]"));
    }
    return d;
  };
  if (const Entry* x = f.Find("rtt_base")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.rtt_base, read_duration(*x, absl::Seconds(1)));
  }
  if (const Entry* x = f.Find("path_stretch")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.path_stretch, ReadNumber(*x, f.Sub(x->key), 1, 10));
  }
  if (const Entry* x = f.Find("latency_band_absolute")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.latency_band_absolute, read_duration(*x, absl::Seconds(10)));
  }
  if (const Entry* x = f.Find("latency_band_relative")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.latency_band_relative, ReadNumber(*x, f.Sub(x->key), 0, 10));
  }
  if (const Entry* x = f.Find("spill_start")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.spill_start, ReadNumber(*x, f.Sub(x->key), 0, 1));
    spill_start_line_ = x->line();
  }
  if (const Entry* x = f.Find("nearest_secondaries")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.nearest_secondaries, ReadBool(*x, f.Sub(x->key)));
  }
  if (const Entry* x = f.Find("rtt_max_age")) {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(r.rtt_max_age, ReadDuration(*x, f.Sub(x->key)));
    if (r.rtt_max_age > absl::Hours(24)) {
      return ErrorAtLine(x->line(), absl::StrCat(f.Sub(x->key), " = ", x->value.Scalar(),
                                                 " is out of range (0, 24h]"));
    }
  }
  return absl::OkStatus();
}

// subdivisions: {US-WA: {region: us, lat: 47.61, lon: -122.33}, ...}; every field optional
// (lat and lon together).
absl::Status Loader::ReadSubdivisions(const Entry& e) {
  DCDIR_CONFIG_ASSIGN_OR_RETURN(Fields f, ReadMap(e.value, e.line(), "subdivisions", {}, true));
  for (const Entry& sub : f.entries) {
    if (!core::IsSubdivisionCode(sub.key)) {
      return ErrorAt(sub.key_node,
                     absl::StrCat("subdivision \"", absl::CEscape(sub.key),
                                  "\" in subdivisions is not an ISO 3166-2 code (two upper-case "
                                  "letters, '-', 1 to 3 upper-case letters or digits, e.g. US-WA)"));
    }
    core::Subdivision out;
    out.code = sub.key;
    const std::string path = f.Sub(sub.key);
    if (!sub.value.IsNull()) {
      DCDIR_CONFIG_ASSIGN_OR_RETURN(Fields sf,
                                    ReadMap(sub.value, sub.line(), path, {"region", "lat", "lon"}));
      if (const Entry* r = sf.Find("region")) {
        DCDIR_CONFIG_ASSIGN_OR_RETURN(std::string region, ReadString(*r, sf.Sub("region")));
        if (!region_index_.contains(region)) {
          return ErrorAtLine(r->line(), absl::StrCat("region \"", absl::CEscape(region), "\" of ",
                                                     path, " is not defined in regions"));
        }
        out.region = std::move(region);
      }
      if (sf.Find("lat") != nullptr || sf.Find("lon") != nullptr) {
        DCDIR_CONFIG_ASSIGN_OR_RETURN(out.point, ReadPoint(sf));
      }
    }
    if (!out.region.has_value()) {
      const std::string country = sub.key.substr(0, 2);
      if (!country_index_.contains(country) && !world_.default_region.has_value()) {
        return ErrorAt(sub.key_node,
                       absl::StrCat(path, " has no region and its country ", country,
                                    " has no home region (not in countries, no default_region)"));
      }
    }
    subdivision_nodes_.push_back(sub.key_node);
    world_.subdivisions.push_back(std::move(out));
  }
  return absl::OkStatus();
}

// The 2020 mistake: a candidate list naming a DC that the rules forbid for some of the region's
// clients (every client class of the region, Topology::client_classes).
absl::Status Loader::CheckCandidatesAllowed(const core::Topology& topology) const {
  const core::World& world = topology.world();
  for (uint32_t r = 0; r < topology.region_count(); ++r) {
    const core::Region& region = topology.region_config(r);
    const RegionSource& src = region_sources_[r];
    for (const auto* list : {&src.primaries, &src.secondaries}) {
      const char* list_name = list == &src.primaries ? "primaries" : "secondaries";
      for (const Ref& ref : *list) {
        const uint32_t d = topology.DcIndex(ref.value);
        for (const core::ClientClass* cls : topology.client_classes(r)) {
          const int32_t rule = cls->denying_rule[d];
          if (rule < 0) continue;
          std::string who =
              cls->kind == core::ClientClassKind::kAnyOtherCountry
                  ? absl::StrCat("from any country without a mapping in countries (\"", region.id,
                                 "\" is the default_region)")
              : cls->kind == core::ClientClassKind::kSubdivision
                  ? absl::StrCat("from subdivision ", cls->subdivision, " (subdivisions.",
                                 cls->subdivision, ".region)")
                  : absl::StrCat("from country ", cls->country);
          return ErrorAt(ref.node, absl::StrCat("datacenter \"", topology.dc(d).id,
                                                "\" in regions.", region.id, ".", list_name,
                                                " is denied by deny rule \"",
                                                world.deny_rules[rule].name,
                                                "\" to clients of region \"", region.id, "\" ",
                                                who));
        }
      }
    }
  }
  return absl::OkStatus();
}

// The parser's work, bounded before any node tree is built. yaml-cpp builds a node of several
// hundred bytes per scalar, so a 2 MB file of one long list took ~0.5 GB and 4 s, and a 14.7 MB
// one 3.4 GB. The largest world we support (docs/BENCHMARKS.md: 1,000 DCs in 200 regions; the file
// `dcdir_world_gen` writes, 223 KB) has 23,526 nodes, 6 levels and no scalar over 28 bytes; the
// limits leave about 10x room above that and bound a reload to tens of MB.
inline constexpr int64_t kMaxConfigNodes = 250'000;      // scalars, sequences, maps, aliases
inline constexpr int kMaxConfigDepth = 32;              // nested sequences / maps
inline constexpr size_t kMaxConfigScalarBytes = 64 << 10;  // one scalar (a name, a list item)

// Raised by the pre-pass when the text goes past one of the limits above.
struct ConfigTooComplex {
  int line;
  std::string message;
};

// Counts documents and checks the limits above on the event stream, which needs no node tree.
// It also protects LoadAll: yaml-cpp 0.7's LoadAll never returns on a stray top-level ',' (it
// adds empty documents without consuming the token until memory runs out; found by the
// libFuzzer target), so documents are counted with a bound before LoadAll runs.
class DocumentLimits final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    Node(mark);
    if (value.size() > kMaxConfigScalarBytes) {
      throw ConfigTooComplex{mark.line + 1,
                             absl::StrCat("a value of ", value.size(), " bytes; the limit is ",
                                          kMaxConfigScalarBytes, " bytes per value")};
    }
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Node(const YAML::Mark& mark) {
    if (++nodes_ > kMaxConfigNodes) {
      throw ConfigTooComplex{mark.line + 1,
                             absl::StrCat("more than ", kMaxConfigNodes,
                                          " YAML nodes (values, lists and maps); a dcdir config "
                                          "of 1,000 data centers has about 24,000")};
    }
  }
  void Open(const YAML::Mark& mark) {
    Node(mark);
    if (++depth_ > kMaxConfigDepth) {
      throw ConfigTooComplex{mark.line + 1, absl::StrCat("lists and maps nested more than ",
                                                         kMaxConfigDepth, " deep")};
    }
  }
  int64_t nodes_ = 0;
  int depth_ = 0;
};

absl::StatusOr<std::shared_ptr<const core::Topology>> Loader::Load(std::string_view text) {
  std::vector<YAML::Node> docs;
  try {
    constexpr int kMaxDocuments = 16;
    std::stringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    DocumentLimits limits;
    int documents = 0;
    while (documents <= kMaxDocuments && parser.HandleNextDocument(limits)) ++documents;
    if (documents > kMaxDocuments) {
      return ErrorAtLine(1, absl::StrCat("expected exactly one YAML document, found more than ",
                                         kMaxDocuments));
    }
    docs = YAML::LoadAll(std::string(text));
  } catch (const ConfigTooComplex& ex) {
    return ErrorAtLine(ex.line, absl::StrCat("config too large to parse: ", ex.message));
  } catch (const YAML::Exception& ex) {
    return ErrorAtLine(ex.mark.line + 1, absl::StrCat("YAML syntax error: ", ex.msg));
  } catch (const std::exception& ex) {
    return ErrorAtLine(0, absl::StrCat("YAML error: ", ex.what()));
  }
  if (docs.size() != 1) {
    return ErrorAtLine(docs.empty() ? 1 : LineOf(docs[1]),
                       absl::StrCat("expected exactly one YAML document, found ", docs.size()));
  }
  try {
    DCDIR_CONFIG_ASSIGN_OR_RETURN(
        Fields top, ReadMap(docs[0], 1, "",
                            {"thresholds", "self_preservation", "default_region", "regions",
                             "datacenters", "countries", "deny_rules",
                             "allow_loosening_from", "subdivisions", "ranking"}));
    if (const Entry* t = top.Find("thresholds")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadThresholds(*t));
    }
    if (const Entry* t = top.Find("self_preservation")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadSelfPreservation(*t));
    }
    if (const Entry* t = top.Find("allow_loosening_from")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadAllowLoosening(*t));
    }
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* regions, Require(top, "regions"));
    DCDIR_CONFIG_RETURN_IF_ERROR(ReadRegions(*regions));
    DCDIR_CONFIG_ASSIGN_OR_RETURN(const Entry* dcs, Require(top, "datacenters"));
    DCDIR_CONFIG_RETURN_IF_ERROR(ReadDatacenters(*dcs));
    DCDIR_CONFIG_RETURN_IF_ERROR(CheckRegionLists());
    if (const Entry* c = top.Find("countries")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadCountries(*c));
    }
    if (const Entry* d = top.Find("default_region")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadDefaultRegion(*d));
    }
    if (const Entry* d = top.Find("deny_rules")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadDenyRules(*d));
    }
    if (const Entry* sd = top.Find("subdivisions")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadSubdivisions(*sd));
    }
    if (const Entry* r = top.Find("ranking")) {
      DCDIR_CONFIG_RETURN_IF_ERROR(ReadRanking(*r));
    }
    // Unless given, spillover starts where a congested DC stops being congested.
    if (spill_start_line_ == 0) world_.ranking.spill_start = world_.thresholds.congestion_exit;
    if (!(world_.ranking.spill_start < world_.thresholds.congestion_enter)) {
      const int line = spill_start_line_;
      return ErrorAtLine(line, absl::StrCat("ranking.spill_start (", world_.ranking.spill_start,
                                            ") must be lower than thresholds.congestion_enter (",
                                            world_.thresholds.congestion_enter, ")"));
    }
  } catch (const std::exception& ex) {
    // Not expected (only non-throwing yaml-cpp accessors are used); never let it escape.
    return ErrorAtLine(0, absl::StrCat("internal error while reading the config: ", ex.what()));
  }
  world_.version = ContentVersion(text);
  // Whatever the core rejects must not get past the loader; the compiled world is the result.
  absl::StatusOr<std::shared_ptr<const core::Topology>> topology =
      core::Topology::Compile(std::move(world_));
  if (!topology.ok()) {
    return ErrorAtLine(0, topology.status().message());
  }
  DCDIR_CONFIG_RETURN_IF_ERROR(CheckCandidatesAllowed(**topology));
  return topology;
}

}  // namespace

std::string ContentVersion(std::string_view bytes) {
  return absl::StrFormat("%016x", core::StableHash64(bytes));
}

absl::StatusOr<std::shared_ptr<const core::Topology>> ParseTopology(std::string_view yaml_text,
                                                                    std::string_view file_name) {
  return Loader(file_name).Load(yaml_text);
}

absl::StatusOr<core::World> ParseWorld(std::string_view yaml_text, std::string_view file_name) {
  absl::StatusOr<std::shared_ptr<const core::Topology>> topology =
      ParseTopology(yaml_text, file_name);
  if (!topology.ok()) return topology.status();
  return (*topology)->world();
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO (or another special file) must not wait for a writer; the
  // file type is checked right after, and only regular files are read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": config file not found"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot open config file: ", std::strerror(err)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file (a FIFO, device or directory is never read)"));
  }
  std::string content;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read config file: ", std::strerror(err)));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxConfigBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": config file larger than ", kMaxConfigBytes, " bytes"));
    }
  }
  ::close(fd);
  return content;
}

absl::StatusOr<core::World> LoadWorldFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadConfigFile(path);
  if (!content.ok()) return content.status();
  return ParseWorld(*content, path);
}

absl::StatusOr<std::shared_ptr<const core::Topology>> LoadTopologyFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadConfigFile(path);
  if (!content.ok()) return content.status();
  return ParseTopology(*content, path);
}

}  // namespace dcdir::config
