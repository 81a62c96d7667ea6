#ifndef DCDIR_TESTS_CONFIG_TEST_UTIL_H_
#define DCDIR_TESTS_CONFIG_TEST_UTIL_H_

// Helpers shared by the config tests: temp dirs, files, text edits.

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::config::testing {

// A fresh directory under the test temp dir, removed when the test process exits.
inline std::string MakeTempDir() {
  std::string dir = dcdir::testing::MakeTempDir("dcdir_config");
  EXPECT_FALSE(dir.empty());
  return dir;
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `text` with the single occurrence of `from` replaced by `to` (fails the test if `from` does
// not occur exactly once, so an edit can never silently do nothing).
inline std::string ReplaceOnce(const std::string& text, const std::string& from,
                               const std::string& to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "not found: " << from;
  if (pos == std::string::npos) return text;
  EXPECT_EQ(text.find(from, pos + 1), std::string::npos) << "found twice: " << from;
  return text.substr(0, pos) + to + text.substr(pos + from.size());
}

// 1-based line of the first occurrence of `needle` in `text` (0 when absent).
inline int LineOfText(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  if (pos == std::string::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < pos; ++i) line += text[i] == '\n';
  return line;
}

}  // namespace dcdir::config::testing

#endif  // DCDIR_TESTS_CONFIG_TEST_UTIL_H_
