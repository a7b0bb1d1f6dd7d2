// Copyright 2026 Trainyard authors.
//
// ParseWebhookBody reads what a (signed) container sent: webhooks.md's body
// into an IngestEvent, every malformed value a 400 naming the JSON field.
#include "services/metrics/ingest/webhook_body.h"

#include <cmath>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

absl::StatusOr<v1::IngestEvent> Parse(std::string_view body) {
  return ParseWebhookBody("job-1", "evt_1_7", body);
}

// The field the error names ("" when none).
std::string BadField(std::string_view body) {
  absl::StatusOr<v1::IngestEvent> e = Parse(body);
  EXPECT_THAT(e, StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<FieldViolation> v = FieldViolations(e.status());
  return v.empty() ? "" : v[0].field;
}

TEST(WebhookBody, R_X_01_MetricsBodyKeepsIdentityAndRawBytes) {
  const std::string body =
      R"({"type":"metrics","attempt":2,"seq":7,"time":"2026-11-29T03:05:00.123Z",)"
      R"("message":"step 850","metrics":{"step":850,"totalSteps":2000,)"
      R"("trainLoss":0.342,"valLoss":"NaN","extra":{"reward":0.12}},"future":1})";
  absl::StatusOr<v1::IngestEvent> e = Parse(body);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->job_id(), "job-1");
  EXPECT_EQ(e->event_id(), "evt_1_7");
  EXPECT_EQ(e->type(), common::v1::EVENT_TYPE_METRICS);
  EXPECT_EQ(e->source(), common::v1::EVENT_SOURCE_CONTAINER);
  EXPECT_EQ(e->attempt(), 2);
  EXPECT_EQ(e->attempt_seq(), 7);
  EXPECT_EQ(e->occurred_time().seconds(), 1795921500);
  EXPECT_EQ(e->occurred_time().nanos(), 123000000);
  EXPECT_EQ(e->metrics().step(), 850);
  EXPECT_EQ(e->metrics().total_steps(), 2000);
  EXPECT_DOUBLE_EQ(e->metrics().train_loss(), 0.342);
  EXPECT_TRUE(std::isnan(e->metrics().val_loss()));
  EXPECT_DOUBLE_EQ(e->metrics().extra().at("reward"), 0.12);
  // Unknown fields are ignored and kept: the raw bytes, unchanged.
  EXPECT_EQ(e->raw_json(), body);
}

TEST(WebhookBody, R_STAGE_02_StatusStagesByName) {
  absl::StatusOr<v1::IngestEvent> e = Parse(
      R"({"type":"status","attempt":1,"seq":1,"status":{"stage":"model_loading",)"
      R"("substatus":"Loading shards","stageProgress":42.5,"resumedFromStep":800}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->status().stage(), common::v1::STAGE_MODEL_LOADING);
  EXPECT_EQ(e->status().substatus(), "Loading shards");
  EXPECT_DOUBLE_EQ(e->status().stage_progress(), 42.5);
  EXPECT_EQ(e->status().resumed_from_step(), 800);
  EXPECT_EQ(BadField(R"({"type":"status","status":{"stage":"baking"}})"),
            "status.stage");
}

TEST(WebhookBody, R_PAUSE_01_CheckpointCarriesItsReason) {
  absl::StatusOr<v1::IngestEvent> e =
      Parse(R"({"type":"checkpoint","attempt":1,"seq":3,"checkpoint":)"
            R"({"step":800,"uri":"s3://b/ckpt-800","sizeBytes":167772160,)"
            R"("reason":"stop"}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->checkpoint().step(), 800);
  EXPECT_EQ(e->checkpoint().uri(), "s3://b/ckpt-800");
  EXPECT_EQ(e->checkpoint().size_bytes(), 167772160);
  EXPECT_EQ(e->checkpoint().reason(), "stop");
}

TEST(WebhookBody, R_STAGE_06_ErrorPayload) {
  absl::StatusOr<v1::IngestEvent> e =
      Parse(R"({"type":"error","attempt":1,"seq":9,"error":{"code":"CUDA_OOM",)"
            R"("message":"CUDA out of memory","details":"trace"}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->error().code(), "CUDA_OOM");
  EXPECT_EQ(e->error().details(), "trace");
}

TEST(WebhookBody, R_EVT_01_OnlyThePayloadOfTheTypeIsKept) {
  // A status next to the metrics of a METRICS event: the metrics win.
  absl::StatusOr<v1::IngestEvent> e =
      Parse(R"({"type":"metrics","status":{"stage":"training"},)"
            R"("metrics":{"step":5}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->payload_case(), v1::IngestEvent::kMetrics);
  // A warning may carry a status.
  e = Parse(
      R"({"type":"warning","message":"slow","status":{"stage":"training"}})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->payload_case(), v1::IngestEvent::kStatus);
}

TEST(WebhookBody, R_X_01_MalformedBodiesNameTheField) {
  EXPECT_EQ(BadField(""), "body");
  EXPECT_EQ(BadField("  \n"), "body");
  EXPECT_THAT(Parse("").status().message(), HasSubstr("empty body"));
  // Truncated inside a field: the field where it broke.
  EXPECT_EQ(BadField("{\"type\":"), "type");
  EXPECT_EQ(BadField("[1]"), "body");
  EXPECT_EQ(BadField(R"({"type":"party"})"), "type");
  EXPECT_EQ(BadField(R"({"type":"metrics","metrics":{"trainLoss":"abc"}})"),
            "metrics.trainLoss");
  EXPECT_EQ(BadField(R"({"type":"metrics","metrics":{"step":"x"}})"),
            "metrics.step");
  EXPECT_EQ(BadField(R"({"type":"info","seq":1.5})"), "seq");
}

TEST(WebhookFieldName, R_X_01_ProtoPathsAsTheSenderWroteThem) {
  EXPECT_EQ(WebhookFieldName("attempt_seq"), "seq");
  EXPECT_EQ(WebhookFieldName("occurred_time"), "time");
  EXPECT_EQ(WebhookFieldName("event_id"), "webhook-id");
  EXPECT_EQ(WebhookFieldName("metrics.total_steps"), "metrics.totalSteps");
  EXPECT_EQ(WebhookFieldName("checkpoint.reason"), "checkpoint.reason");
}

}  // namespace
}  // namespace trainyard::metrics
