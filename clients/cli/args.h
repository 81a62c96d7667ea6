#ifndef DCDIR_CLIENTS_CLI_ARGS_H_
#define DCDIR_CLIENTS_CLI_ARGS_H_

// A small command-line parser for dcdirctl and dcdir-agent: `--name=value`, `--name value` and
// boolean `--name` anywhere on the line, repeatable flags, and positional words (the command).
// Dashes and underscores in flag names are the same (`--client-id` == `--client_id`).
//
// Each binary declares its flags once, as a table of FlagSpec: the table is what the parser
// accepts, what `--help` prints (FlagsHelp) and where a flag's default comes from (Get without a
// fallback), so the help cannot list a flag the parser refuses or a default the code does not use.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace dcdir::cli {

struct FlagSpec {
  std::string_view name;  // with underscores, no dashes: "token_file"
  // Placeholder of the value in the help ("HOST:PORT"); empty for a boolean flag.
  std::string_view value;
  // The value used when the flag is absent, as text ("5s", "tcp"); empty: none, or one the
  // help explains (computed defaults such as --ttl's).
  std::string_view default_value;
  std::string_view help;  // what it does, for people
};

class Args {
 public:
  // Parses argv[1..] against `flags`. Anything else starting with '-' is an INVALID_ARGUMENT
  // naming the flag; a value flag at the end of the line without its value too. "--" ends the
  // flags.
  static absl::StatusOr<Args> Parse(int argc, const char* const* argv,
                                    absl::Span<const FlagSpec> flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, else the table's default_value.
  std::string Get(const std::string& name) const;
  // The last value given, or `fallback` (for defaults computed at run time).
  std::string Get(const std::string& name, const std::string& fallback) const;
  // Every value given, comma-separated lists split.
  std::vector<std::string> GetList(const std::string& name) const;
  // Parsed values of the flag, else of the table's default_value (an absent flag without a
  // default gives `fallback`).
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback = 0) const;
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback = 0) const;
  // "30s", "5m", "1h30m" (absl::ParseDuration).
  absl::StatusOr<absl::Duration> GetDuration(
      const std::string& name, absl::Duration fallback = absl::ZeroDuration()) const;

 private:
  // The text to parse for `name`: the last value given, else the default; nullopt for neither.
  const std::string* Text(const std::string& name) const;

  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, std::string> defaults_;
};

// The address the tools talk to without --server: $DCDIR_SERVER when set and not empty, else
// kDefaultServer.
inline constexpr char kDefaultServer[] = "127.0.0.1:50051";
std::string DefaultServer();

// The flags for --help: one entry per flag, "  --name VALUE" then its help and
// "(default: X)" when it has a default_value, wrapped under 100 columns.
std::string FlagsHelp(absl::Span<const FlagSpec> flags);

}  // namespace dcdir::cli

#endif  // DCDIR_CLIENTS_CLI_ARGS_H_
