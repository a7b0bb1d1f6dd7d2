// Copyright 2026 Trainyard authors.
//
// The environment a training pod gets (gpusim's README, "The container"): the
// job, where to report (webhook URL and the job's derived secret), the
// training configuration, the attempt and the step to resume from.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "trainyard/common/v1/common.pb.h"

namespace trainyard::jobs {

struct PodEnvInput {
  std::string job_id;
  // metrics-ingest's admin base URL, e.g. "http://127.0.0.1:7113".
  std::string webhook_base_url;
  // "whsec_..." from webhook::DeriveJobSecret.
  std::string webhook_secret;
  common::v1::TrainingConfig config;
  int32_t attempt = 1;
  int64_t resume_step = 0;
};

std::map<std::string, std::string> PodEnv(const PodEnvInput& in);

}  // namespace trainyard::jobs
