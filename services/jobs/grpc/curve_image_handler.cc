// Copyright 2026 Trainyard authors.
//
// ExportLossCurveImage (R-DASH-08, R-X-06): the job's curve from metrics'
// GetLossCurve, drawn as a PNG (views/loss_curve_image.h).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/jobs/domain/errors.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/views/loss_curve_image.h"

namespace trainyard::jobs {
namespace {

using server::CallInfo;

constexpr int64_t kMaxPngBytes = 4 << 20;

absl::StatusOr<int> Side(int32_t requested, int def, std::string_view field) {
  if (requested == 0) return def;
  if (requested < kCurveImageMinSide || requested > kCurveImageMaxSide) {
    return InvalidFieldError(
        field,
        absl::StrCat("must be 0 (default ", def, ") or ", kCurveImageMinSide,
                     "..", kCurveImageMaxSide, " pixels, got ", requested));
  }
  return requested;
}

// The metrics request for the image: one point per pixel column at most
// (downsampling keeps each bucket's minimum and maximum, so spikes show).
absl::StatusOr<metrics::v1::GetLossCurveRequest> CurveRequest(
    const v1::ExportLossCurveImageRequest& r, int width) {
  if (r.last_steps() < 0) {
    return InvalidFieldError("last_steps", "must not be negative");
  }
  if (r.last_steps() > 0 && (r.has_start_step() || r.has_end_step())) {
    return InvalidFieldError("last_steps",
                             "not combinable with start_step or end_step");
  }
  if (r.has_start_step() && r.has_end_step() && r.start_step() > r.end_step()) {
    return InvalidFieldError("start_step", "must not exceed end_step");
  }
  if (r.series_size() > 10) {
    return InvalidFieldError("series", "at most 10 series");
  }
  metrics::v1::GetLossCurveRequest c;
  c.set_job_id(r.job_id());
  *c.mutable_series() = r.series();
  if (r.has_start_step()) c.set_start_step(r.start_step());
  if (r.has_end_step()) c.set_end_step(r.end_step());
  c.set_last_steps(r.last_steps());
  c.set_max_points(width);
  c.set_include_rolled_back(r.include_rolled_back());
  return c;
}

}  // namespace

grpc::ServerUnaryReactor* JobViewsService::ExportLossCurveImage(
    grpc::CallbackServerContext* ctx,
    const v1::ExportLossCurveImageRequest* req,
    v1::ExportLossCurveImageResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "ExportLossCurveImage", req, resp,
      [this](const CallInfo& call, const v1::ExportLossCurveImageRequest& r,
             v1::ExportLossCurveImageResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(int width,
                         Side(r.width(), kCurveImageDefaultWidth, "width"));
        ASSIGN_OR_RETURN(int height,
                         Side(r.height(), kCurveImageDefaultHeight, "height"));
        ASSIGN_OR_RETURN(metrics::v1::GetLossCurveRequest request,
                         CurveRequest(r, width));
        ASSIGN_OR_RETURN(v1::Job job, VisibleJob(r.job_id(), "job_id"));
        const absl::Time deadline =
            std::min(deps_.wall_clock.Now() + deps_.fetch_timeout,
                     call.deadline - absl::Milliseconds(100));
        auto answer = std::make_shared<
            absl::StatusOr<metrics::v1::GetLossCurveResponse>>();
        auto done = std::make_shared<absl::Notification>();
        deps_.sources.LossCurve(
            request, deadline,
            [answer,
             done](absl::StatusOr<metrics::v1::GetLossCurveResponse> a) {
              *answer = std::move(a);
              done->Notify();
            });
        done->WaitForNotification();
        common::v1::LossCurve curve;
        if (answer->ok()) {
          curve = std::move(*(*answer)->mutable_curve());
        } else if (!absl::IsNotFound(answer->status())) {
          // No curve without metrics; NOT_FOUND: nothing reported yet.
          return WithReason(
              absl::UnavailableError(absl::StrCat(
                  "the loss curve is unavailable: metrics answered ",
                  answer->status().ToString())),
              kReasonMetricsUnavailable);
        }
        ASSIGN_OR_RETURN(std::string png,
                         RenderLossCurvePng(curve, job.spec().display_name(),
                                            width, height));
        if (static_cast<int64_t>(png.size()) > kMaxPngBytes) {
          return absl::ResourceExhaustedError(
              absl::StrCat("the image is ", png.size(),
                           " bytes, above 4 MiB; ask for fewer pixels"));
        }
        out.set_png(std::move(png));
        out.set_filename(LossCurveFilename(job.spec().display_name(),
                                           deps_.engine.clock().Now()));
        out.set_content_type("image/png");
        out.set_width(width);
        out.set_height(height);
        return absl::OkStatus();
      });
}

}  // namespace trainyard::jobs
