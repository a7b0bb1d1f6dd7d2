// Copyright 2026 Trainyard authors.
#include "services/jobs/testing/gpusim_process.h"

#include "absl/strings/str_cat.h"
#include "common/testing/service_process.h"

namespace trainyard::jobs::testing {

absl::StatusOr<GpusimProcess> GpusimProcess::Start(
    const std::vector<std::string>& flags) {
  const std::string bin_dir = trainyard::testing::BinaryDir();
  if (bin_dir.empty()) {
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
  int port = 0;
  absl::Status bound =
      trainyard::testing::WaitForPorts(ports, *p.process_, &port, nullptr);
  if (!bound.ok()) return bound;
  p.base_url_ = absl::StrCat("http://127.0.0.1:", port);
  return p;
}

}  // namespace trainyard::jobs::testing
