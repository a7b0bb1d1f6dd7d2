// Copyright 2026 Trainyard authors.
//
// A child process for tests that run our real binaries: started with
// posix_spawn, its stderr captured to a file, signalled and waited for.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trainyard::testing {

class Subprocess {
 public:
  // Starts argv[0] (a path) with argv; stdout and stderr go to `log_path`.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  void Signal(int signal);
  // Waits for exit; returns the exit code (128 + signal when killed by one).
  // kDeadlineExceeded if it is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything the child wrote so far.
  std::string Log() const;
  pid_t pid() const { return pid_; }

 private:
  Subprocess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace trainyard::testing
