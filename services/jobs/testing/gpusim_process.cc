// Copyright 2026 Trainyard authors.
#include "services/jobs/testing/gpusim_process.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace trainyard::jobs::testing {

absl::StatusOr<GpusimProcess> GpusimProcess::Start(
    const std::vector<std::string>& flags) {
  const char* bin_dir = std::getenv("TRAINYARD_BINARY_DIR");
  if (bin_dir == nullptr) {
    return absl::FailedPreconditionError("TRAINYARD_BINARY_DIR is not set");
  }
  GpusimProcess p;
  p.dir_ = std::make_unique<trainyard::testing::TempDir>();
  const std::string ports = p.dir_->Sub("gpusim.ports");
  std::vector<std::string> argv = {
      absl::StrCat(bin_dir, "/tools/gpusim/gpusim"), "--address=127.0.0.1:0",
      "--ports_file=" + ports, "--seed=7"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto process =
      trainyard::testing::Subprocess::Start(argv, p.dir_->Sub("gpusim.log"));
  if (!process.ok()) return process.status();
  p.process_ =
      std::make_unique<trainyard::testing::Subprocess>(*std::move(process));
  // Wait for the ports file (the event of binding), bounded.
  int port = 0;
  for (int i = 0; i < 6000 && port == 0; ++i) {
    std::ifstream in(ports);
    if (!(in >> port)) {
      port = 0;
      if (p.process_->Wait(absl::ZeroDuration()).ok()) break;  // exited
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("gpusim did not start; its log:\n", p.process_->Log()));
  }
  p.base_url_ = absl::StrCat("http://127.0.0.1:", port);
  return p;
}

}  // namespace trainyard::jobs::testing
