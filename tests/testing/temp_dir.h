#ifndef DCDIR_TESTS_TESTING_TEMP_DIR_H_
#define DCDIR_TESTS_TESTING_TEMP_DIR_H_

// Fresh temp directories for tests, removed with their contents when the test process exits
// (ctest runs every test in its own process), so a test run leaves nothing behind in /tmp.

#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dcdir::testing {

namespace internal {
class TempDirs {
 public:
  ~TempDirs() {
    std::error_code ignored;
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir, ignored);
  }
  void Add(std::string dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(std::move(dir));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};
inline TempDirs& AllTempDirs() {
  static TempDirs dirs;
  return dirs;
}
}  // namespace internal

// A new directory `<temp>/<prefix>-XXXXXX` ($TMPDIR or /tmp); empty string if it cannot be
// made. Removed at process exit.
inline std::string MakeTempDir(std::string_view prefix = "dcdir-test") {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string tmpl = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  internal::AllTempDirs().Add(tmpl);
  return tmpl;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_TEMP_DIR_H_
