// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/webhook_body.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/strings/json_message.h"

namespace trainyard::metrics {
namespace {

struct TypeName {
  std::string_view name;
  common::v1::EventType type;
};
constexpr TypeName kTypes[] = {
    {"status", common::v1::EVENT_TYPE_STATUS},
    {"metrics", common::v1::EVENT_TYPE_METRICS},
    {"checkpoint", common::v1::EVENT_TYPE_CHECKPOINT},
    {"warning", common::v1::EVENT_TYPE_WARNING},
    {"error", common::v1::EVENT_TYPE_ERROR},
    {"info", common::v1::EVENT_TYPE_INFO},
};

struct StageName {
  std::string_view name;
  common::v1::Stage stage;
};
constexpr StageName kStageNames[] = {
    {"preprocessing", common::v1::STAGE_PREPROCESSING},
    {"model_loading", common::v1::STAGE_MODEL_LOADING},
    {"training", common::v1::STAGE_TRAINING},
    {"finalization", common::v1::STAGE_FINALIZATION},
};

}  // namespace

std::string WebhookFieldName(std::string_view proto_path) {
  if (proto_path == "attempt_seq") return "seq";
  if (proto_path == "occurred_time") return "time";
  if (proto_path == "event_id") return "webhook-id";
  std::string out;
  bool upper = false;
  for (char c : proto_path) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper ? absl::ascii_toupper(c) : c);
      upper = false;
    }
  }
  return out;
}

absl::StatusOr<v1::IngestEvent> ParseWebhookBody(std::string_view job_id,
                                                 std::string_view webhook_id,
                                                 std::string_view raw_body) {
  if (absl::StripAsciiWhitespace(ToAbsl(raw_body)).empty()) {
    return InvalidFieldError("body", "empty body: a JSON object is required");
  }
  v1::WebhookBody body;
  // Names the JSON field of a bad value ("metrics.trainLoss"); unknown
  // fields are skipped.
  RETURN_IF_ERROR(ParseJsonMessage(raw_body, body));
  v1::IngestEvent event;
  event.set_job_id(std::string(job_id));
  event.set_event_id(std::string(webhook_id));
  event.set_source(common::v1::EVENT_SOURCE_CONTAINER);
  bool known_type = false;
  for (const TypeName& t : kTypes) {
    if (body.type() == t.name) {
      event.set_type(t.type);
      known_type = true;
    }
  }
  if (!known_type) {
    return InvalidFieldError(
        "type", absl::StrCat("unknown type \"", body.type(),
                             "\" (status, metrics, checkpoint, warning, "
                             "error, info)"));
  }
  event.set_attempt(body.attempt());
  event.set_attempt_seq(body.seq());
  if (body.has_time()) *event.mutable_occurred_time() = body.time();
  event.set_message(body.message());
  if (body.has_status()) {
    v1::StatusPayload* status = event.mutable_status();
    const v1::WebhookStatus& in = body.status();
    if (!in.stage().empty()) {
      bool known_stage = false;
      for (const StageName& s : kStageNames) {
        if (in.stage() == s.name) {
          status->set_stage(s.stage);
          known_stage = true;
        }
      }
      if (!known_stage) {
        return InvalidFieldError(
            "status.stage",
            absl::StrCat("unknown stage \"", in.stage(),
                         "\" (preprocessing, model_loading, training, "
                         "finalization)"));
      }
    }
    status->set_substatus(in.substatus());
    if (in.has_stage_progress())
      status->set_stage_progress(in.stage_progress());
    if (in.has_resumed_from_step()) {
      status->set_resumed_from_step(in.resumed_from_step());
    }
  }
  // One payload per event: the one its type calls for wins over a status.
  if (body.has_metrics() && event.type() == common::v1::EVENT_TYPE_METRICS) {
    *event.mutable_metrics() = body.metrics();
  } else if (body.has_checkpoint() &&
             event.type() == common::v1::EVENT_TYPE_CHECKPOINT) {
    *event.mutable_checkpoint() = body.checkpoint();
  } else if (body.has_error() && event.type() == common::v1::EVENT_TYPE_ERROR) {
    *event.mutable_error() = body.error();
  }
  event.set_raw_json(std::string(raw_body));
  return event;
}

}  // namespace trainyard::metrics
