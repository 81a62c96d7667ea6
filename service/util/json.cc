#include "service/util/json.h"

#include <cmath>
#include <cstdio>
#include <utility>

namespace dcdir::util {

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendJsonStrings(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, v[i]);
  }
  out->push_back(']');
}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) out_.push_back(',');
  // The value being written completes an element: the next one needs a comma (a container
  // resets this when it opens and sets it again when it closes).
  need_comma_ = true;
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  Separate();
  AppendJsonString(&out_, name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::Value(std::string_view s) {
  Separate();
  AppendJsonString(&out_, s);
  return *this;
}

JsonWriter& JsonWriter::Value(bool b) {
  Separate();
  out_.append(b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return Null();
  Separate();
  char buf[64];
  const int len = std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  if (len > 0 && static_cast<size_t>(len) < sizeof(buf)) {
    out_.append(buf, static_cast<size_t>(len));
  } else {
    // Larger than 1e40 or so: too long for the buffer; size the string instead.
    std::string big(static_cast<size_t>(len) + 1, '\0');
    std::snprintf(big.data(), big.size(), "%.*f", decimals, v);
    big.pop_back();
    out_.append(big);
  }
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::Strings(const std::vector<std::string>& v) {
  Separate();
  AppendJsonStrings(&out_, v);
  return *this;
}

std::string JsonWriter::Take() {
  std::string out = std::move(out_);
  out_.clear();
  need_comma_ = false;
  after_key_ = false;
  return out;
}

}  // namespace dcdir::util
