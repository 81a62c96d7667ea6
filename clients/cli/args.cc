#include "clients/cli/args.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dcdir::cli {
namespace {

const FlagSpec* Find(absl::Span<const FlagSpec> flags, const std::string& name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Args> Args::Parse(int argc, const char* const* argv,
                                 absl::Span<const FlagSpec> flags) {
  Args args;
  for (const FlagSpec& f : flags) {
    if (!f.default_value.empty()) {
      args.defaults_[std::string(f.name)] = std::string(f.default_value);
    }
  }
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (flags_done || !absl::StartsWith(arg, "-") || arg == "-") {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    std::string name(body);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    name = absl::StrReplaceAll(name, {{"-", "_"}});
    const FlagSpec* spec = Find(flags, name);
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    if (spec->value.empty()) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value (or =true/=false)"));
      }
      if (value == "false") {
        args.values_.erase(name);
      } else {
        args.values_[name].push_back("true");
      }
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    args.values_[name].push_back(value);
  }
  return args;
}

const std::string* Args::Text(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return &it->second.back();
  if (auto it = defaults_.find(name); it != defaults_.end()) return &it->second;
  return nullptr;
}

std::string Args::Get(const std::string& name) const {
  const std::string* text = Text(name);
  return text != nullptr ? *text : std::string();
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetList(const std::string& name) const {
  std::vector<std::string> out;
  auto it = values_.find(name);
  if (it == values_.end()) return out;
  for (const std::string& v : it->second) {
    for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
      out.emplace_back(absl::StripAsciiWhitespace(part));
    }
  }
  return out;
}

absl::StatusOr<double> Args::GetDouble(const std::string& name, double fallback) const {
  const std::string* text = Text(name);
  if (text == nullptr) return fallback;
  double v;
  if (!absl::SimpleAtod(*text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a number; got \"", *text, "\""));
  }
  return v;
}

absl::StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t fallback) const {
  const std::string* text = Text(name);
  if (text == nullptr) return fallback;
  int64_t v;
  if (!absl::SimpleAtoi(*text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer; got \"", *text, "\""));
  }
  return v;
}

absl::StatusOr<absl::Duration> Args::GetDuration(const std::string& name,
                                                 absl::Duration fallback) const {
  const std::string* text = Text(name);
  if (text == nullptr) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(*text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " must be a duration such as 30s, 5m or 1h; got \"", *text, "\""));
  }
  return d;
}

std::string DefaultServer() {
  const char* env = std::getenv("DCDIR_SERVER");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultServer);
}

std::string FlagsHelp(absl::Span<const FlagSpec> flags) {
  constexpr size_t kIndent = 26;
  constexpr size_t kWidth = 99;
  std::string out;
  for (const FlagSpec& f : flags) {
    std::string head = absl::StrCat("  --", std::string(f.name));
    if (!f.value.empty()) absl::StrAppend(&head, " ", std::string(f.value));
    std::string text(f.help);
    if (!f.default_value.empty()) absl::StrAppend(&text, " (default: ", std::string(f.default_value), ")");
    std::string line = head;
    if (line.size() + 1 >= kIndent) {
      absl::StrAppend(&out, line, "\n");
      line.clear();
    }
    line.resize(kIndent, ' ');
    size_t column = kIndent;
    bool first = true;
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      if (!first && column + 1 + word.size() > kWidth) {
        absl::StrAppend(&out, line, "\n");
        line = std::string(kIndent, ' ');
        column = kIndent;
        first = true;
      }
      if (!first) {
        line.push_back(' ');
        ++column;
      }
      absl::StrAppend(&line, word);
      column += word.size();
      first = false;
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace dcdir::cli
