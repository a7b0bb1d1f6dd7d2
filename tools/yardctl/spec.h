// Copyright 2026 Trainyard authors.
//
// The job spec of `yardctl submit`: read from a JSON file (a JobSpec in the
// protos' JSON names, parsed by protobuf's JsonStringToMessage, so a
// misspelt field is an error), then overridden by flags. Validation of the
// values is the server's (one place: CreateJob names each bad field).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::yardctl {

// Every flag of `submit` that shapes the spec; empty / zero = not given.
struct SpecFlags {
  std::string file;  // -f
  std::string name;
  std::string preset;  // balanced, conservative, aggressive, custom
  std::string gpu;     // h100_80gb, a100_80gb, l40s, rtx_a6000, rtx_4090
  int64_t gpu_count = 0;
  bool spot = false;
  bool on_demand = false;
  std::string budget;         // "50", "$49.99"
  std::string budget_action;  // alert, pause, cancel
  std::string model;
  std::string dataset;
  int64_t conversations = 0;
  int64_t dataset_tokens = 0;
  int64_t epochs = 0;
  double learning_rate = 0;
  int64_t lora_rank = 0;
  int64_t batch_size = 0;
  int64_t grad_accum = 0;
  std::string tags;  // comma-separated
  std::string notes;
};

// Reads `flags.file` (if any) and applies the flags on top. Errors are
// kInvalidArgument naming the flag or the file.
absl::StatusOr<jobs::v1::JobSpec> BuildSpec(const SpecFlags& flags);

// "50", "$49.99", "0.5" -> micros of USD. kInvalidArgument naming `flag`.
absl::StatusOr<int64_t> ParseDollars(const std::string& text,
                                     const std::string& flag);

}  // namespace trainyard::yardctl
