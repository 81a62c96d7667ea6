#ifndef DCDIR_SERVICE_UTIL_JSON_H_
#define DCDIR_SERVICE_UTIL_JSON_H_

// Tiny helpers for hand-written JSON output (reports, audit lines).

#include <string>
#include <string_view>
#include <vector>

namespace dcdir::util {

// Appends `s` as a JSON string literal (quotes, escapes, control characters as \uXXXX).
void AppendJsonString(std::string* out, std::string_view s);

// Appends a JSON array of string literals.
void AppendJsonStrings(std::string* out, const std::vector<std::string>& v);

}  // namespace dcdir::util

#endif  // DCDIR_SERVICE_UTIL_JSON_H_
