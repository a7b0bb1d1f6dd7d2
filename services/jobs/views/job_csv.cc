// Copyright 2026 Trainyard authors.
#include "services/jobs/views/job_csv.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/strings/csv.h"
#include "common/time/proto_time.h"

namespace trainyard::jobs {
namespace {

std::string Time(const google::protobuf::Timestamp& t, bool set) {
  if (!set) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProto(t),
                          absl::UTCTimeZone());
}

std::string Seconds(const google::protobuf::Duration& d) {
  return absl::StrCat(d.seconds());
}

template <typename T>
std::string Opt(bool has, T value) {
  return has ? absl::StrCat(value) : "";
}

std::string EnumName(const google::protobuf::EnumDescriptor* d, int value,
                     std::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* v = d->FindValueByNumber(value);
  if (v == nullptr || value == 0) return "";
  std::string_view name = v->name();
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return std::string(name);
}

}  // namespace

std::string DecimalUnits(int64_t micros) {
  const bool negative = micros < 0;
  const uint64_t abs = negative ? -static_cast<uint64_t>(micros) : micros;
  std::string frac = absl::StrFormat("%06d", abs % 1000000);
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return absl::StrCat(negative ? "-" : "", abs / 1000000, ".", frac);
}

void AppendJobCsvHeader(std::string* out) {
  AppendCsvRow({"job_id",
                "display_name",
                "state",
                "preset",
                "gpu_type",
                "gpu_count",
                "pricing",
                "base_model",
                "lora_rank",
                "lora_alpha",
                "learning_rate",
                "epochs",
                "lr_schedule",
                "batch_size",
                "gradient_accumulation_steps",
                "created_by",
                "create_time",
                "start_time",
                "end_time",
                "duration_seconds",
                "active_seconds",
                "paused_seconds",
                "step",
                "total_steps",
                "progress_percent",
                "cost",
                "estimate_low",
                "estimate_high",
                "projected_final",
                "currency",
                "tags",
                "notes"},
               out);
}

void AppendJobCsvRow(const v1::Job& job, std::string* out) {
  const common::v1::TrainingConfig& c = job.spec().config();
  const common::v1::Hyperparameters& h = c.hyperparameters();
  const common::v1::CostSummary& cost = job.cost();
  std::string currency = cost.spend().currency_code();
  if (currency.empty()) currency = "USD";
  const int64_t total_steps = job.progress().total_steps() > 0
                                  ? job.progress().total_steps()
                                  : c.total_steps();
  AppendCsvRow(
      {job.job_id(),
       job.spec().display_name(),
       EnumName(common::v1::JobState_descriptor(), job.state(), "JOB_STATE_"),
       EnumName(common::v1::Preset_descriptor(), c.preset(), "PRESET_"),
       EnumName(common::v1::GpuType_descriptor(), c.gpu_type(), "GPU_TYPE_"),
       absl::StrCat(c.gpu_count()),
       EnumName(common::v1::Pricing_descriptor(), c.pricing(), "PRICING_"),
       c.base_model(),
       Opt(h.has_lora_rank(), h.lora_rank()),
       Opt(h.has_lora_alpha(), h.lora_alpha()),
       Opt(h.has_learning_rate(), h.learning_rate()),
       Opt(h.has_epochs(), h.epochs()),
       h.has_lr_schedule() ? EnumName(common::v1::LrSchedule_descriptor(),
                                      h.lr_schedule(), "LR_SCHEDULE_")
                           : "",
       Opt(h.has_batch_size(), h.batch_size()),
       Opt(h.has_gradient_accumulation_steps(),
           h.gradient_accumulation_steps()),
       job.created_by().user_id(),
       Time(job.create_time(), job.has_create_time()),
       Time(job.start_time(), job.has_start_time()),
       Time(job.end_time(), job.has_end_time()),
       job.has_duration() ? Seconds(job.duration()) : "",
       Seconds(job.active_time()),
       Seconds(job.paused_time()),
       absl::StrCat(job.progress().step()),
       absl::StrCat(total_steps),
       absl::StrFormat("%.2f", job.progress().percent()),
       DecimalUnits(cost.spend().micros()),
       DecimalUnits(cost.estimate().low().micros()),
       DecimalUnits(cost.estimate().high().micros()),
       DecimalUnits(cost.projected_final().micros()),
       currency,
       absl::StrJoin(job.spec().tags(), ";"),
       job.spec().notes()},
      out);
}

}  // namespace trainyard::jobs
