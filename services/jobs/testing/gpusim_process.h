// Copyright 2026 Trainyard authors.
//
// A real gpusim process for job-control's tests (the provider client, and the
// process-level lifecycle tests): started on an ephemeral port, its base URL
// read from its ports file, killed with the fixture.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"

namespace trainyard::jobs::testing {

class GpusimProcess {
 public:
  // Starts build/tools/gpusim/gpusim with `flags` added (e.g. "--max_pods=1",
  // "--api_key=k"). REQUIRES: TRAINYARD_BINARY_DIR set (ctest sets it).
  static absl::StatusOr<GpusimProcess> Start(
      const std::vector<std::string>& flags);
  GpusimProcess(GpusimProcess&&) = default;

  // "http://127.0.0.1:<port>".
  const std::string& base_url() const { return base_url_; }
  std::string Log() const { return process_->Log(); }

 private:
  GpusimProcess() = default;
  std::unique_ptr<trainyard::testing::TempDir> dir_;
  std::unique_ptr<trainyard::testing::Subprocess> process_;
  std::string base_url_;
};

}  // namespace trainyard::jobs::testing
