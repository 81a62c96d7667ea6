#ifndef DCDIR_CLIENTS_CLI_ARGS_H_
#define DCDIR_CLIENTS_CLI_ARGS_H_

// A small command-line parser for dcdirctl and dcdir-agent: `--name=value`, `--name value` and
// boolean `--name` anywhere on the line, repeatable flags, and positional words (the command).
// Dashes and underscores in flag names are the same (`--client-id` == `--client_id`).

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dcdir::cli {

class Args {
 public:
  // Parses argv[1..]. `bool_flags` take no value; `value_flags` need one. Anything else is an
  // INVALID_ARGUMENT naming the flag. "--" ends the flags.
  static absl::StatusOr<Args> Parse(int argc, const char* const* argv,
                                    const std::set<std::string>& bool_flags,
                                    const std::set<std::string>& value_flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given, comma-separated lists split.
  std::vector<std::string> GetList(const std::string& name) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  // "30s", "5m", "1h30m" (absl::ParseDuration).
  absl::StatusOr<absl::Duration> GetDuration(const std::string& name,
                                             absl::Duration fallback) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_ARGS_H_
