#ifndef DCDIR_SERVICE_UTIL_JSON_H_
#define DCDIR_SERVICE_UTIL_JSON_H_

// JSON output for reports and audit lines: JsonWriter, a small streaming writer that places
// the commas and colons itself, and the string-literal helpers it is built on.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dcdir::util {

// Appends `s` as a JSON string literal (quotes, escapes, control characters as \uXXXX). Bytes
// of 0x80 and above are copied as they are (the caller passes UTF-8).
void AppendJsonString(std::string* out, std::string_view s);

// Appends a JSON array of string literals.
void AppendJsonStrings(std::string* out, const std::vector<std::string>& v);

// Writes one compact JSON text (no spaces, no newline) into a string, in call order:
//
//   JsonWriter w;
//   w.BeginObject().Key("id").Value("eu").Key("dcs").Strings({"a", "b"}).EndObject();
//   w.str()  // {"id":"eu","dcs":["a","b"]}
//
// It inserts the ',' between members and elements and the ':' after a key. It does not check
// the grammar (a Key outside an object, an unbalanced End*): the callers are our own emitters,
// whose exact output the tests assert.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // An object member's name; the next value is its value.
  JsonWriter& Key(std::string_view name);

  JsonWriter& Value(std::string_view s);  // a string literal (AppendJsonString)
  JsonWriter& Value(const char* s) { return Value(std::string_view(s)); }
  JsonWriter& Value(const std::string& s) { return Value(std::string_view(s)); }
  JsonWriter& Value(bool b);  // true / false
  // An integer in decimal (any integer type but bool).
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonWriter& Value(T n) {
    Separate();
    out_.append(std::to_string(n));
    return *this;
  }
  // `v` in fixed notation with `decimals` digits after the point ("%.*f"); null when `v` is
  // not finite (JSON has no NaN or infinity).
  JsonWriter& Fixed(double v, int decimals);
  JsonWriter& Null();
  // An array of string literals.
  JsonWriter& Strings(const std::vector<std::string>& v);

  // The text written so far.
  const std::string& str() const { return out_; }
  // Moves the text out; the writer is empty afterwards.
  std::string Take();

 private:
  // Writes the ',' that a value or key needs before it (none first in a container, none
  // after a key).
  void Separate();

  std::string out_;
  bool need_comma_ = false;  // a value or container was completed at this level
  bool after_key_ = false;   // the next value completes a member
};

}  // namespace dcdir::util

#endif  // DCDIR_SERVICE_UTIL_JSON_H_
