#ifndef DCDIR_TESTS_TESTING_SUBPROCESS_H_
#define DCDIR_TESTS_TESTING_SUBPROCESS_H_

// Child processes for the tests that run the real binaries: stdout/stderr go to files in a temp
// dir, waits are bounded, and a child still running at destruction is killed.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace dcdir::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Subprocess {
 public:
  // Runs argv[0] (a path) with the test's environment plus `env` ("NAME=value" entries, which
  // replace variables of the same name).
  explicit Subprocess(const std::vector<std::string>& argv,
                      const std::vector<std::string>& env = {}) {
    static int counter = 0;
    const std::string dir = MakeTempDir();
    out_path_ = dir + "/stdout." + std::to_string(counter);
    err_path_ = dir + "/stderr." + std::to_string(counter++);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const std::string& extra : env) replaced = replaced || extra.rfind(name + "=", 0) == 0;
      if (!replaced) env_strings.push_back(entry);
    }
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << argv[0];
    if (rc != 0) pid_ = -1;
  }
  ~Subprocess() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }

  std::string out() const { return ReadFile(out_path_); }
  std::string err() const { return ReadFile(err_path_); }
  pid_t pid() const { return pid_; }

  // The exit code (128 + signal when killed by one), or nullopt if still running after `timeout`.
  std::optional<int> Wait(absl::Duration timeout = absl::Seconds(20)) {
    if (exit_code_) return exit_code_;
    const absl::Time until = absl::Now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      if (absl::Now() > until) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }

  void Signal(int sig) {
    if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
  }

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  std::optional<int> exit_code_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion (bounded).
inline RunResult RunCommand(const std::vector<std::string>& argv) {
  Subprocess p(argv);
  std::optional<int> code = p.Wait();
  EXPECT_TRUE(code.has_value()) << argv[0] << " did not finish";
  return {code.value_or(-1), p.out(), p.err()};
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SUBPROCESS_H_
