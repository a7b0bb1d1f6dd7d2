// Copyright 2026 Trainyard authors.
//
// The training container's webhook body (webhooks.md) as an IngestEvent.
// The body is parsed only after its signature was verified; the raw bytes are
// kept as the event's raw_json (never re-serialized: traps.md).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// kInvalidArgument with a field violation naming the JSON field
// ("metrics.trainLoss") for malformed JSON, an unknown `type` or stage, or a
// value of the wrong kind. Unknown fields are ignored (and kept in raw_json).
absl::StatusOr<v1::IngestEvent> ParseWebhookBody(std::string_view job_id,
                                                 std::string_view webhook_id,
                                                 std::string_view raw_body);

// The JSON name of a proto field path of an IngestEvent, as a webhook sender
// knows it: "attempt_seq" -> "seq", "occurred_time" -> "time",
// "metrics.total_steps" -> "metrics.totalSteps".
std::string WebhookFieldName(std::string_view proto_path);

}  // namespace trainyard::metrics
