// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/pod_event.h"

#include <cmath>
#include <limits>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

google::protobuf::Struct ParseJson(const std::string& body) {
  google::protobuf::Struct s;
  auto status = google::protobuf::util::JsonStringToMessage(body, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << body;
  return s;
}

TEST(PodEventTest, MetricsBodyFollowsWebhooksMd) {
  PodEvent e;
  e.type = EventType::kMetrics;
  e.attempt = 2;
  e.seq = 42;
  e.time = absl::FromUnixMillis(1764385500123);
  e.message = "Training epoch 2/3 - Step 850/2000...";
  e.metrics = MetricsPayload{.step = 850,
                             .total_steps = 2000,
                             .epoch = 2,
                             .total_epochs = 3,
                             .train_loss = 0.342,
                             .learning_rate = 0.000182,
                             .lr_schedule = "cosine",
                             .gpu_utilization = 0.87,
                             .gpu_memory_used_bytes = 73014444032,
                             .tokens_per_second = 1247};
  EXPECT_EQ(WebhookId(e), "evt_2_42");
  std::string body = EventBody(e);
  EXPECT_EQ(
      body.substr(0, 72),
      "{\"type\":\"metrics\",\"attempt\":2,\"seq\":42,\"time\":\"2025-11-29T03:"
      "05:00.123Z\"");
  auto json = ParseJson(body);
  const auto& m = json.fields().at("metrics").struct_value().fields();
  EXPECT_EQ(m.at("step").number_value(), 850);
  EXPECT_EQ(m.at("totalSteps").number_value(), 2000);
  EXPECT_DOUBLE_EQ(m.at("trainLoss").number_value(), 0.342);
  EXPECT_DOUBLE_EQ(m.at("learningRate").number_value(), 0.000182);
  EXPECT_EQ(m.at("gpuMemoryUsedBytes").number_value(), 73014444032);
  EXPECT_EQ(m.count("valLoss"), 0u);  // absent, not null
  EXPECT_EQ(json.fields().count("status"), 0u);
}

TEST(PodEventTest, NonFiniteLossIsAString) {
  PodEvent e;
  e.type = EventType::kMetrics;
  e.metrics =
      MetricsPayload{.train_loss = std::numeric_limits<double>::quiet_NaN(),
                     .val_loss = -INFINITY};
  std::string body = EventBody(e);
  EXPECT_NE(body.find("\"trainLoss\":\"NaN\""), std::string::npos);
  EXPECT_NE(body.find("\"valLoss\":\"-Infinity\""), std::string::npos);
}

TEST(PodEventTest, StatusCheckpointAndErrorBodies) {
  PodEvent s;
  s.type = EventType::kStatus;
  s.status = StatusPayload{.stage = "training",
                           .substatus = "\u2713 Resumed from step 800",
                           .stage_progress = 40,
                           .resumed_from_step = 800};
  auto json = ParseJson(EventBody(s));
  const auto& st = json.fields().at("status").struct_value().fields();
  EXPECT_EQ(st.at("stage").string_value(), "training");
  EXPECT_EQ(st.at("substatus").string_value(), "\u2713 Resumed from step 800");
  EXPECT_EQ(st.at("stageProgress").number_value(), 40);
  EXPECT_EQ(st.at("resumedFromStep").number_value(), 800);

  PodEvent c;
  c.type = EventType::kCheckpoint;
  c.checkpoint = CheckpointPayload{800, "s3://b/j/ckpt-800", 167772160};
  json = ParseJson(EventBody(c));
  EXPECT_EQ(json.fields()
                .at("checkpoint")
                .struct_value()
                .fields()
                .at("sizeBytes")
                .number_value(),
            167772160);

  PodEvent x;
  x.type = EventType::kError;
  x.error = ErrorPayload{"CUDA_OOM", "CUDA out of \"memory\"", ""};
  json = ParseJson(EventBody(x));
  const auto& err = json.fields().at("error").struct_value().fields();
  EXPECT_EQ(err.at("message").string_value(), "CUDA out of \"memory\"");
  EXPECT_EQ(err.count("details"), 0u);
  EXPECT_EQ(json.fields().at("type").string_value(), "error");
}

}  // namespace
}  // namespace trainyard::gpusim
