// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/webhook_handler.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/webhook/signature.h"
#include "nlohmann/json.hpp"
#include "services/metrics/ingest/webhook_body.h"

namespace trainyard::metrics {
namespace {

http::HttpResponse Ok(std::string body) {
  http::HttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

bool IsJson(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(ToAbsl(media)),
                                "application/json");
}

class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(n), value_(++n) {}
  ~InFlight() { --n_; }
  int value() const { return value_; }

 private:
  std::atomic<int>& n_;
  const int value_;
};

}  // namespace

WebhookHandler::WebhookHandler(std::string master_key, Ingestor& ingestor,
                               const Clock& wall_clock,
                               std::function<server::ServicePhase()> phase,
                               IngestMetrics* metrics, WebhookOptions options)
    : master_key_(std::move(master_key)),
      ingestor_(ingestor),
      wall_clock_(wall_clock),
      phase_(std::move(phase)),
      metrics_(metrics),
      options_(options) {}

http::HttpResponse WebhookHandler::Answer(std::string_view result,
                                          http::HttpResponse r) {
  if (metrics_ != nullptr) metrics_->Webhook(result);
  return r;
}

http::HttpResponse WebhookHandler::Handle(const http::HttpRequest& request) {
  switch (phase_()) {
    case server::ServicePhase::kStarting: {
      // Warmup is short: the sender tries again in a second.
      const std::string_view phase = PhaseName(server::ServicePhase::kStarting);
      http::HttpResponse r =
          http::JsonError(503, "starting: retry shortly", "", phase);
      r.SetRetryAfter(absl::Seconds(1));
      return Answer(phase, std::move(r));
    }
    case server::ServicePhase::kDraining: {
      const std::string_view phase = PhaseName(server::ServicePhase::kDraining);
      http::HttpResponse r =
          http::JsonError(503, "draining: retry later", "", phase);
      r.SetRetryAfter(absl::Seconds(5));
      return Answer(phase, std::move(r));
    }
    case server::ServicePhase::kServing:
      break;
  }
  if (master_key_.empty()) {
    // Nothing can be verified; the sender retries 5xx until the service is
    // restarted with a key.
    http::HttpResponse r = http::JsonError(
        503, "webhooks are off: start with --webhook_master_key_file", "",
        "off");
    r.SetRetryAfter(absl::Seconds(60));
    return Answer("off", std::move(r));
  }
  if (!IsJson(request.Header("content-type"))) {
    return Answer(
        "unsupported_media_type",
        http::JsonError(415, "content-type must be application/json"));
  }
  if (request.body.size() > options_.max_body_bytes) {
    // The admin server's own limit sits above this one (kAdminMaxBodyBytes),
    // so the answer is counted here.
    return Answer(
        "too_large",
        http::JsonError(413, absl::StrCat("body over ", options_.max_body_bytes,
                                          " bytes")));
  }
  InFlight in_flight(in_flight_);
  if (in_flight.value() > options_.max_in_flight) {
    http::HttpResponse r = http::JsonError(429, "overloaded: retry later");
    r.SetRetryAfter(absl::Seconds(1));
    return Answer("overloaded", std::move(r));
  }

  std::string_view job_id = request.PathParam("job_id");
  std::string_view webhook_id = request.Header("webhook-id");
  // Verify the raw bytes before parsing anything (webhooks.md). A missing
  // webhook-id fails here too (401): the id is part of what is signed.
  absl::Status verified = webhook::Verify(
      webhook::DeriveJobSecretKey(master_key_, job_id), webhook_id,
      request.Header("webhook-timestamp"), request.Header("webhook-signature"),
      request.body, wall_clock_.Now(), options_.tolerance);
  if (!verified.ok()) {
    if (metrics_ != nullptr) {
      metrics_->AuthFailure(
          webhook::VerifyFailureName(webhook::VerifyFailureReason(verified)));
    }
    return Answer("unauthorized",
                  http::JsonError(401, ToStd(verified.message())));
  }

  // After the signature: only a genuine sender (a pod of this deployment
  // given the wrong shard's URL) learns where its job lives.
  if (absl::Status mine = options_.shard.Check(job_id); !mine.ok()) {
    http::HttpResponse r;
    r.status = 421;
    r.content_type = "application/json";
    nlohmann::ordered_json body = {
        {"error", ToStd(mine.message())},
        {"reason", shard::kWrongShardReason},
        {"shard", shard::ShardOf(job_id, options_.shard.count)},
        {"shardCount", options_.shard.count}};
    r.body = body.dump(-1, ' ', /*ensure_ascii=*/false,
                       nlohmann::ordered_json::error_handler_t::replace);
    return Answer("wrong_shard", std::move(r));
  }

  absl::StatusOr<v1::IngestEvent> event =
      ParseWebhookBody(job_id, webhook_id, request.body);
  if (!event.ok()) {
    std::vector<FieldViolation> v = FieldViolations(event.status());
    return Answer("bad_request",
                  http::JsonError(400, ToStd(event.status().message()),
                                  v.empty() ? "" : v[0].field));
  }
  std::vector<v1::IngestEvent> events;
  events.push_back(*std::move(event));
  absl::StatusOr<std::vector<v1::IngestResult>> results = ingestor_.Ingest(
      std::move(events),
      {.limits = {.max_raw_json_bytes = options_.max_body_bytes,
                  .check_raw_json = false,
                  .bound_occurred_time = false}});
  if (!results.ok()) {
    // Nothing was stored; the sender retries 5xx.
    std::string reason = ErrorReason(results.status());
    if (reason.empty()) reason = "STORAGE_ERROR";
    http::HttpResponse r =
        http::JsonError(503, ToStd(results.status().message()), "", reason);
    r.SetRetryAfter(absl::Seconds(1));
    return Answer("storage_error", std::move(r));
  }
  const v1::IngestResult& result = (*results)[0];
  switch (result.outcome()) {
    case v1::INGEST_OUTCOME_ACCEPTED:
      return Answer("accepted",
                    Ok(absl::StrCat("{\"jobSeq\":", result.job_seq(), "}")));
    case v1::INGEST_OUTCOME_DUPLICATE:
      return Answer("duplicate",
                    Ok(absl::StrCat("{\"jobSeq\":", result.job_seq(),
                                    ",\"duplicate\":true}")));
    default:
      return Answer("bad_request",
                    http::JsonError(400, result.reason(),
                                    WebhookFieldName(result.field())));
  }
}

}  // namespace trainyard::metrics
