// Copyright 2026 Trainyard authors.
//
// ValidateIngestEvent faces every sender (webhooks and IngestEvents): each
// rule answers INVALID_ARGUMENT naming the first bad field.
#include "services/metrics/ingest/validate.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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
  e.set_raw_json("\"" + std::string(kMaxRawJsonBytes - 1, 'x') + "\"");
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

// Issue 11 §4: the rules metrics.proto and webhooks.md promise.
TEST(ValidateIngestEvent, R_X_01_JobIdFollowsTheApiIdRule) {
  for (const char* bad : {"../etc", "Job-1", "job 1", "job.1", "a/b"}) {
    v1::IngestEvent e = Info();
    e.set_job_id(bad);
    EXPECT_EQ(BadField(e), "job_id") << bad;
  }
  v1::IngestEvent e = Info();
  e.set_job_id(std::string(64, 'j'));
  EXPECT_EQ(BadField(e), "");
  e.set_job_id(std::string(65, 'j'));
  EXPECT_EQ(BadField(e), "job_id");
}

TEST(ValidateIngestEvent, R_DASH_05_OnlyLossesMayBeNonNumbers) {
  using M = v1::MetricsPayload;
  const std::vector<std::pair<std::string, std::function<void(M&, double)>>>
      numbers = {
          {"metrics.gpu_utilization", &M::set_gpu_utilization},
          {"metrics.learning_rate", &M::set_learning_rate},
          {"metrics.tokens_per_second", &M::set_tokens_per_second},
          {"metrics.grad_norm", &M::set_grad_norm},
          {"metrics.perplexity", &M::set_perplexity},
          {"metrics.extra.reward",
           [](M& m, double v) { (*m.mutable_extra())["reward"] = v; }},
      };
  const double kInf = std::numeric_limits<double>::infinity();
  for (double v : {std::nan(""), kInf, -kInf}) {
    for (const auto& [field, set] : numbers) {
      v1::IngestEvent e = Metrics(10);
      set(*e.mutable_metrics(), v);
      EXPECT_EQ(BadField(e), field) << v;
    }
    v1::IngestEvent e = Info();
    e.set_type(common::v1::EVENT_TYPE_STATUS);
    e.mutable_status()->set_stage_progress(v);
    EXPECT_EQ(BadField(e), "status.stage_progress") << v;
    // Losses are stored as reported.
    e = Metrics(10);
    e.mutable_metrics()->set_train_loss(v);
    e.mutable_metrics()->set_val_loss(v);
    EXPECT_EQ(BadField(e), "") << v;
  }
}

TEST(ValidateIngestEvent, R_DASH_04_ExtraKeysAreBounded) {
  v1::IngestEvent e = Metrics(10);
  auto& extra = *e.mutable_metrics()->mutable_extra();
  for (size_t i = 0; i < kMaxExtraKeys; ++i) extra[absl::StrCat("k", i)] = 1;
  extra["Reward.v2-x_1"] = 0.5;
  extra.erase("k0");
  EXPECT_EQ(BadField(e), "");
  extra["one-too-many"] = 1;
  EXPECT_EQ(BadField(e), "metrics.extra");
  for (std::string bad :
       {std::string(""), std::string(65, 'k'), std::string("a b"),
        std::string("../x"), std::string("r\xc3\xa9")}) {
    v1::IngestEvent one = Metrics(10);
    (*one.mutable_metrics()->mutable_extra())[bad] = 1;
    EXPECT_EQ(BadField(one), "metrics.extra") << bad;
  }
}

TEST(ValidateIngestEvent, R_EVT_01_UnknownEnumNumbersNameTheField) {
  v1::IngestEvent e = Info();
  e.set_type(static_cast<common::v1::EventType>(99));
  EXPECT_EQ(BadField(e), "type");
  e = Info();
  e.set_source(static_cast<common::v1::EventSource>(7));
  EXPECT_EQ(BadField(e), "source");
  e = Info();
  e.set_type(common::v1::EVENT_TYPE_STATUS);
  e.mutable_status()->set_stage(static_cast<common::v1::Stage>(42));
  EXPECT_EQ(BadField(e), "status.stage");
  auto lifecycle = [] {
    v1::IngestEvent l = Info();
    l.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
    l.set_type(common::v1::EVENT_TYPE_STATUS);
    l.mutable_lifecycle()->set_job_state(common::v1::JOB_STATE_QUEUED);
    return l;
  };
  EXPECT_EQ(BadField(lifecycle()), "");
  e = lifecycle();
  e.mutable_lifecycle()->set_job_state(static_cast<common::v1::JobState>(77));
  EXPECT_EQ(BadField(e), "lifecycle.job_state");
  e = lifecycle();
  e.mutable_lifecycle()->set_previous_state(
      static_cast<common::v1::JobState>(-3));
  EXPECT_EQ(BadField(e), "lifecycle.previous_state");
  e = lifecycle();
  e.mutable_lifecycle()->set_actor_role(static_cast<common::v1::Role>(50));
  EXPECT_EQ(BadField(e), "lifecycle.actor_role");
  e = lifecycle();
  e.mutable_lifecycle()->set_gpu_type(static_cast<common::v1::GpuType>(500));
  EXPECT_EQ(BadField(e), "lifecycle.gpu_type");
  e = lifecycle();
  e.mutable_lifecycle()->set_pricing(static_cast<common::v1::Pricing>(9));
  EXPECT_EQ(BadField(e), "lifecycle.pricing");
}

TEST(ValidateIngestEvent, R_EVT_01_ControlPlaneSendsNoContainerReports) {
  v1::IngestEvent e = Metrics(10);
  e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(BadField(e), "type");
  e = Checkpoint("stop");
  e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(BadField(e), "type");
  e = Info();
  e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  e.set_type(common::v1::EVENT_TYPE_STATUS);
  e.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
  EXPECT_EQ(BadField(e), "lifecycle");
}

TEST(ValidateIngestEvent, R_EVT_01_RawJsonMustBeJson) {
  v1::IngestEvent e = Info();
  for (const char* json :
       {R"({"a":[1,2,{"b":null}]})", "[]", "\"text\"", "12.5", "true"}) {
    e.set_raw_json(json);
    EXPECT_EQ(BadField(e), "") << json;
  }
  for (const char* bad : {"{", "{\"a\":}", "NaN", "hello", "{} {}"}) {
    e.set_raw_json(bad);
    EXPECT_EQ(BadField(e), "raw_json") << bad;
  }
  // A webhook's raw_json is its body, parsed already.
  e.set_raw_json("{");
  EXPECT_EQ(BadField(e, kNow, {.check_raw_json = false}), "");
}

}  // namespace
}  // namespace trainyard::metrics
