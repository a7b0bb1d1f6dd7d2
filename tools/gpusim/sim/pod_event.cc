// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/pod_event.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings/json.h"

namespace trainyard::gpusim {
namespace {

// Builds one JSON object; keys are our literals (no escaping needed).
// Hand-written rather than nlohmann-json: every simulated step of every pod
// writes one (gpusim_bench), and the body must say NaN / Infinity as the
// training container does (webhooks.md), which JSON numbers cannot.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  ~ObjectWriter() { out_->push_back('}'); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(value, out_);
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    absl::StrAppend(out_, value);
  }
  void Double(std::string_view key, double value) {
    Key(key);
    if (std::isnan(value)) {
      out_->append("\"NaN\"");
    } else if (std::isinf(value)) {
      out_->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
      absl::StrAppendFormat(out_, "%.6g", value);
    }
  }
  // Starts a nested object; the returned writer closes it when destroyed.
  ObjectWriter Object(std::string_view key) {
    Key(key);
    return ObjectWriter(out_);
  }

 private:
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
  }

  std::string* out_;
  bool first_ = true;
};

template <typename T>
void Optional(ObjectWriter& w, std::string_view key,
              const std::optional<T>& value) {
  if (!value) return;
  if constexpr (std::is_same_v<T, double>) {
    w.Double(key, *value);
  } else {
    w.Int(key, *value);
  }
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kStatus:
      return "status";
    case EventType::kMetrics:
      return "metrics";
    case EventType::kCheckpoint:
      return "checkpoint";
    case EventType::kWarning:
      return "warning";
    case EventType::kError:
      return "error";
    case EventType::kInfo:
      return "info";
  }
  return "";
}

std::string WebhookId(const PodEvent& event) {
  return absl::StrCat("evt_", event.attempt, "_", event.seq);
}

std::string EventBody(const PodEvent& e) {
  std::string out;
  out.reserve(512);
  {
    ObjectWriter w(&out);
    w.String("type", EventTypeName(e.type));
    w.Int("attempt", e.attempt);
    w.Int("seq", e.seq);
    w.String("time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", e.time,
                                      absl::UTCTimeZone()));
    if (!e.message.empty()) w.String("message", e.message);
    if (e.status) {
      ObjectWriter s = w.Object("status");
      s.String("stage", e.status->stage);
      s.String("substatus", e.status->substatus);
      Optional(s, "stageProgress", e.status->stage_progress);
      Optional(s, "resumedFromStep", e.status->resumed_from_step);
    }
    if (e.metrics) {
      const MetricsPayload& m = *e.metrics;
      ObjectWriter o = w.Object("metrics");
      o.Int("step", m.step);
      o.Int("totalSteps", m.total_steps);
      o.Int("epoch", m.epoch);
      o.Int("totalEpochs", m.total_epochs);
      Optional(o, "trainLoss", m.train_loss);
      Optional(o, "valLoss", m.val_loss);
      Optional(o, "learningRate", m.learning_rate);
      if (!m.lr_schedule.empty()) o.String("lrSchedule", m.lr_schedule);
      Optional(o, "gradNorm", m.grad_norm);
      Optional(o, "gpuUtilization", m.gpu_utilization);
      Optional(o, "gpuMemoryUsedBytes", m.gpu_memory_used_bytes);
      Optional(o, "gpuMemoryTotalBytes", m.gpu_memory_total_bytes);
      Optional(o, "tokensPerSecond", m.tokens_per_second);
      Optional(o, "perplexity", m.perplexity);
    }
    if (e.checkpoint) {
      ObjectWriter c = w.Object("checkpoint");
      c.Int("step", e.checkpoint->step);
      c.String("uri", e.checkpoint->uri);
      c.Int("sizeBytes", e.checkpoint->size_bytes);
    }
    if (e.error) {
      ObjectWriter x = w.Object("error");
      x.String("code", e.error->code);
      x.String("message", e.error->message);
      if (!e.error->details.empty()) x.String("details", e.error->details);
    }
  }
  return out;
}

}  // namespace trainyard::gpusim
