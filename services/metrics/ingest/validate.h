// Copyright 2026 Trainyard authors.
//
// What an event must satisfy before anything of it is stored, for both ways
// in (webhooks.md and IngestEvents). Field paths are the proto's
// ("metrics.total_steps"); the webhook handler renames them to the JSON it
// was sent ("metrics.totalSteps").
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// Limits of webhooks.md and metrics.proto.
inline constexpr size_t kMaxEventIdBytes = 128;
inline constexpr size_t kMaxExtraKeys = 32;
inline constexpr size_t kMaxExtraKeyChars = 64;
inline constexpr size_t kMaxMessageChars = 4000;
inline constexpr size_t kMaxRawJsonBytes = 64 << 10;
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);
// CheckpointPayload.reason values (webhooks.md); empty means periodic.
inline constexpr std::string_view kCheckpointPeriodic = "periodic";
inline constexpr std::string_view kCheckpointStop = "stop";

// Where the two ways in differ.
struct ValidationLimits {
  // raw_json: 64 KiB given over gRPC; a webhook's whole body (1 MiB).
  size_t max_raw_json_bytes = kMaxRawJsonBytes;
  // raw_json given over gRPC must be JSON; a webhook's is its body, which
  // was parsed already.
  bool check_raw_json = true;
  // gRPC workers share our clock; a container's clock may be off, and its
  // signature timestamp is what bounds freshness (webhooks.md).
  bool bound_occurred_time = true;
};

// OK, or kInvalidArgument with a field violation naming the first bad field.
absl::Status ValidateIngestEvent(const v1::IngestEvent& event, absl::Time now,
                                 const ValidationLimits& limits = {});

}  // namespace trainyard::metrics
