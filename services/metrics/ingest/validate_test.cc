// Copyright 2026 Trainyard authors.
//
// ValidateIngestEvent faces every sender (webhooks and IngestEvents): each
// rule answers INVALID_ARGUMENT naming the first bad field.
#include "services/metrics/ingest/validate.h"

#include <string>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::trainyard::testing::IsOk;

const absl::Time kNow = absl::FromUnixSeconds(1764385200);

v1::IngestEvent Info() {
  v1::IngestEvent e;
  e.set_job_id("j");
  e.set_event_id("evt_1_1");
  e.set_type(common::v1::EVENT_TYPE_INFO);
  e.set_attempt(1);
  e.set_attempt_seq(1);
  *e.mutable_occurred_time() = ToProto(kNow);
  e.set_message("hello");
  return e;
}

v1::IngestEvent Metrics(int64_t step) {
  v1::IngestEvent e = Info();
  e.set_type(common::v1::EVENT_TYPE_METRICS);
  e.mutable_metrics()->set_step(step);
  return e;
}

v1::IngestEvent Checkpoint(std::string reason) {
  v1::IngestEvent e = Info();
  e.set_type(common::v1::EVENT_TYPE_CHECKPOINT);
  e.mutable_checkpoint()->set_step(100);
  e.mutable_checkpoint()->set_reason(std::move(reason));
  return e;
}

// The field the error names, "" when OK or none.
std::string BadField(const v1::IngestEvent& e, absl::Time now = kNow,
                     ValidationLimits limits = {}) {
  absl::Status s = ValidateIngestEvent(e, now, limits);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  std::vector<FieldViolation> v = FieldViolations(s);
  return v.empty() ? "<none>" : v[0].field;
}

TEST(ValidateIngestEvent, R_X_01_AWellFormedEventPasses) {
  EXPECT_THAT(ValidateIngestEvent(Info(), kNow), IsOk());
  EXPECT_THAT(ValidateIngestEvent(Metrics(0), kNow), IsOk());
}

TEST(ValidateIngestEvent, R_X_01_IdentityFieldsAreRequiredAndBounded) {
  v1::IngestEvent e = Info();
  e.clear_job_id();
  EXPECT_EQ(BadField(e), "job_id");
  e = Info();
  e.set_job_id(std::string(129, 'j'));
  EXPECT_EQ(BadField(e), "job_id");
  e = Info();
  e.clear_event_id();
  EXPECT_EQ(BadField(e), "event_id");
  e = Info();
  e.set_event_id(std::string(kMaxEventIdBytes + 1, 'e'));
  EXPECT_EQ(BadField(e), "event_id");
  e = Info();
  e.set_attempt(0);
  EXPECT_EQ(BadField(e), "attempt");
  e = Info();
  e.set_attempt_seq(0);
  EXPECT_EQ(BadField(e), "attempt_seq");
  // Control-plane events are not numbered by a container.
  e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(BadField(e), "");
}

TEST(ValidateIngestEvent, R_X_01_OccurredTimeRequiredAndNotFarAhead) {
  v1::IngestEvent e = Info();
  e.clear_occurred_time();
  EXPECT_EQ(BadField(e), "occurred_time");
  e = Info();
  *e.mutable_occurred_time() =
      ToProto(kNow + kMaxFutureSkew + absl::Seconds(1));
  EXPECT_EQ(BadField(e), "occurred_time");
  // A container's clock may be off: webhooks do not bound it.
  EXPECT_EQ(BadField(e, kNow, {.bound_occurred_time = false}), "");
  *e.mutable_occurred_time() = ToProto(kNow + kMaxFutureSkew);
  EXPECT_EQ(BadField(e), "");
}

TEST(ValidateIngestEvent, R_EVT_01_MessageCountsCodePointsNotBytes) {
  v1::IngestEvent e = Info();
  std::string message;
  for (size_t i = 0; i < kMaxMessageChars; ++i) message += "\xc3\xa9";  // é
  e.set_message(message);
  EXPECT_EQ(BadField(e), "");
  e.set_message(message + "x");
  EXPECT_EQ(BadField(e), "message");
}

TEST(ValidateIngestEvent, R_X_01_RawJsonLimitDependsOnTheWayIn) {
  v1::IngestEvent e = Info();
  e.set_raw_json(std::string(kMaxRawJsonBytes + 1, ' '));
  EXPECT_EQ(BadField(e), "raw_json");
  EXPECT_EQ(BadField(e, kNow, {.max_raw_json_bytes = 1 << 20}), "");
}

TEST(ValidateIngestEvent, R_EVT_01_EachTypeNeedsItsPayload) {
  v1::IngestEvent e = Info();
  e.set_type(common::v1::EVENT_TYPE_STATUS);
  EXPECT_EQ(BadField(e), "status");
  e.set_type(common::v1::EVENT_TYPE_METRICS);
  EXPECT_EQ(BadField(e), "metrics");
  e.set_type(common::v1::EVENT_TYPE_CHECKPOINT);
  EXPECT_EQ(BadField(e), "checkpoint");
  e.set_type(common::v1::EVENT_TYPE_ERROR);
  EXPECT_EQ(BadField(e), "error");
  e.set_type(common::v1::EVENT_TYPE_UNSPECIFIED);
  EXPECT_EQ(BadField(e), "type");
  e = Info();
  e.clear_message();
  EXPECT_EQ(BadField(e), "message");
  e = Info();
  e.mutable_metrics()->set_step(1);
  EXPECT_EQ(BadField(e), "type");  // an INFO carries no metrics
  e = Info();
  e.mutable_lifecycle();
  EXPECT_EQ(BadField(e), "lifecycle");  // only the control plane's
}

TEST(ValidateIngestEvent, R_DASH_05_MetricsRangesNameTheField) {
  EXPECT_EQ(BadField(Metrics(-1)), "metrics.step");
  v1::IngestEvent e = Metrics(10);
  e.mutable_metrics()->set_total_steps(9);
  EXPECT_EQ(BadField(e), "metrics.total_steps");
  e = Metrics(10);
  e.mutable_metrics()->set_epoch(-1);
  EXPECT_EQ(BadField(e), "metrics.epoch");
  e = Metrics(10);
  e.mutable_metrics()->set_epoch(3);
  e.mutable_metrics()->set_total_epochs(2);
  EXPECT_EQ(BadField(e), "metrics.total_epochs");
  e = Metrics(10);
  e.mutable_metrics()->set_gpu_utilization(1.5);
  EXPECT_EQ(BadField(e), "metrics.gpu_utilization");
  e = Metrics(10);
  e.mutable_metrics()->set_gpu_memory_used_bytes(-1);
  EXPECT_EQ(BadField(e), "metrics.gpu_memory_used_bytes");
  e = Metrics(10);
  e.mutable_metrics()->set_tokens_per_second(-1);
  EXPECT_EQ(BadField(e), "metrics.tokens_per_second");
  e = Metrics(10);
  e.mutable_metrics()->set_learning_rate(-1e-4);
  EXPECT_EQ(BadField(e), "metrics.learning_rate");
  // A loss that is not a number is stored as reported (divergence).
  e = Metrics(10);
  e.mutable_metrics()->set_train_loss(std::nan(""));
  EXPECT_EQ(BadField(e), "");
}

TEST(ValidateIngestEvent, R_STAGE_02_StatusRanges) {
  v1::IngestEvent e = Info();
  e.set_type(common::v1::EVENT_TYPE_STATUS);
  e.mutable_status()->set_stage_progress(100.5);
  EXPECT_EQ(BadField(e), "status.stage_progress");
  e.mutable_status()->set_stage_progress(100);
  EXPECT_EQ(BadField(e), "");
  e.mutable_status()->set_resumed_from_step(-1);
  EXPECT_EQ(BadField(e), "status.resumed_from_step");
}

TEST(ValidateIngestEvent, R_PAUSE_01_CheckpointReasonIsPeriodicOrStop) {
  EXPECT_EQ(BadField(Checkpoint("")), "");
  EXPECT_EQ(BadField(Checkpoint("periodic")), "");
  EXPECT_EQ(BadField(Checkpoint("stop")), "");
  EXPECT_EQ(BadField(Checkpoint("panic")), "checkpoint.reason");
  v1::IngestEvent e = Checkpoint("stop");
  e.mutable_checkpoint()->set_step(-1);
  EXPECT_EQ(BadField(e), "checkpoint.step");
}

}  // namespace
}  // namespace trainyard::metrics
