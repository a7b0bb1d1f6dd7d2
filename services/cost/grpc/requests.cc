// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/requests.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/paging/opaque_token.h"
#include "common/search/filter_binder.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"

namespace trainyard::cost {
namespace {

constexpr absl::Duration kMaxReportPeriod = absl::Hours(24 * 366);
constexpr absl::Duration kDefaultReportPeriod = absl::Hours(24 * 30);

absl::Status Required(std::string_view field) {
  return InvalidFieldError(field, "required");
}

// A proto3 enum field's value must be a known, set value.
template <typename IsValid>
absl::Status CheckEnum(std::string_view field, int value, IsValid is_valid,
                       bool required) {
  if (value == 0) {
    return required ? Required(field) : absl::OkStatus();
  }
  if (!is_valid(value)) {
    return InvalidFieldError(field, absl::StrCat("unknown value ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(std::string_view field, bool present, int64_t value,
                        int64_t low, int64_t high) {
  if (present && (value < low || value > high)) {
    return InvalidFieldError(field, absl::StrCat("must be ", low, "..", high));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> NotInFuture(std::string_view field,
                                       const google::protobuf::Timestamp& t,
                                       absl::Time now) {
  const absl::Time time = FromProto(t);
  if (time > now) {
    return InvalidFieldError(field, "must not be in the future");
  }
  return time;
}

// The ledger's filter (cost.proto, ListLedgerEntriesRequest.filter).
const std::vector<FilterField>& LedgerFields() {
  using F = LedgerComparison::Field;
  using enum FilterOp;
  auto id = [](F f) { return static_cast<int>(f); };
  static const auto* fields = new std::vector<FilterField>{
      {.name = "phase",
       .id = id(F::kPhase),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .enum_type = common::v1::CostPhase_descriptor()},
      {.name = "attempt",
       .id = id(F::kAttempt),
       .ops = {kEq, kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kInteger},
      {.name = "gpu_type",
       .id = id(F::kGpuType),
       .ops = {kEq},
       .kind = FilterValueKind::kEnum,
       .enum_type = common::v1::GpuType_descriptor()},
      {.name = "pricing",
       .id = id(F::kPricing),
       .ops = {kEq},
       .kind = FilterValueKind::kEnum,
       .enum_type = common::v1::Pricing_descriptor()},
      {.name = "provisional",
       .id = id(F::kProvisional),
       .ops = {kEq},
       .kind = FilterValueKind::kBool},
      {.name = "start_time",
       .id = id(F::kStartTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kTime},
  };
  return *fields;
}

// The report's filter (cost.proto, GetCostReportRequest.filter): OR groups of
// `=` only.
enum class ReportField { kCreatedBy, kJobId, kPreset, kGpuType, kPricing };

const std::vector<FilterField>& ReportFields() {
  using F = ReportField;
  using enum FilterOp;
  auto id = [](F f) { return static_cast<int>(f); };
  constexpr FilterOrGroups kEqualOnly = FilterOrGroups::kEqualOnly;
  static const auto* fields = new std::vector<FilterField>{
      {.name = "created_by",
       .id = id(F::kCreatedBy),
       .ops = {kEq},
       .or_groups = kEqualOnly},
      {.name = "preset",
       .id = id(F::kPreset),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .or_groups = kEqualOnly,
       .enum_type = common::v1::Preset_descriptor()},
      {.name = "gpu_type",
       .id = id(F::kGpuType),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .or_groups = kEqualOnly,
       .enum_type = common::v1::GpuType_descriptor()},
      {.name = "pricing",
       .id = id(F::kPricing),
       .ops = {kEq},
       .kind = FilterValueKind::kEnum,
       .or_groups = kEqualOnly,
       .enum_type = common::v1::Pricing_descriptor()},
      {.name = "job_id",
       .id = id(F::kJobId),
       .ops = {kEq},
       .or_groups = kEqualOnly},
  };
  return *fields;
}

}  // namespace

absl::Status CheckTrainingConfig(std::string_view prefix,
                                 const common::v1::TrainingConfig& c) {
  auto f = [&](std::string_view name) {
    return absl::StrCat(std::string(prefix), ".", std::string(name));
  };
  RETURN_IF_ERROR(CheckEnum(f("gpu_type"), c.gpu_type(),
                            common::v1::GpuType_IsValid, true));
  RETURN_IF_ERROR(
      CheckEnum(f("pricing"), c.pricing(), common::v1::Pricing_IsValid, false));
  RETURN_IF_ERROR(
      CheckEnum(f("preset"), c.preset(), common::v1::Preset_IsValid, false));
  RETURN_IF_ERROR(CheckEnum(f("quantization"), c.quantization(),
                            common::v1::Quantization_IsValid, false));
  if (c.base_model().empty()) return Required(f("base_model"));
  if (c.dataset().conversations() < 1) {
    return InvalidFieldError(f("dataset.conversations"), "must be >= 1");
  }
  if (c.dataset().total_tokens() < 0) {
    return InvalidFieldError(f("dataset.total_tokens"), "must be >= 0");
  }
  RETURN_IF_ERROR(CheckRange(f("gpu_count"), true, c.gpu_count(), 0, 8));
  const common::v1::Hyperparameters& h = c.hyperparameters();
  RETURN_IF_ERROR(CheckRange(f("hyperparameters.lora_rank"), h.has_lora_rank(),
                             h.lora_rank(), 1, 512));
  RETURN_IF_ERROR(CheckRange(f("hyperparameters.lora_alpha"),
                             h.has_lora_alpha(), h.lora_alpha(), 1, 1024));
  RETURN_IF_ERROR(CheckRange(f("hyperparameters.epochs"), h.has_epochs(),
                             h.epochs(), 1, 100));
  RETURN_IF_ERROR(CheckRange(f("hyperparameters.batch_size"),
                             h.has_batch_size(), h.batch_size(), 1, 256));
  RETURN_IF_ERROR(CheckRange(f("hyperparameters.gradient_accumulation_steps"),
                             h.has_gradient_accumulation_steps(),
                             h.gradient_accumulation_steps(), 1, 1024));
  if (c.preset() == common::v1::PRESET_CUSTOM) {
    std::vector<std::string> missing;
    if (!h.has_lora_rank()) missing.push_back("lora_rank");
    if (!h.has_lora_alpha()) missing.push_back("lora_alpha");
    if (!h.has_learning_rate()) missing.push_back("learning_rate");
    if (!h.has_epochs()) missing.push_back("epochs");
    if (!missing.empty()) {
      return InvalidFieldError(
          f("hyperparameters"),
          absl::StrCat("PRESET_CUSTOM needs ", absl::StrJoin(missing, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RateCardUpdate> ToRateCardUpdate(
    const v1::UpdateRateCardRequest& r, const v1::RateCard& current) {
  if (!r.has_rate_card()) return Required("rate_card");
  if (r.rate_card().etag().empty()) return Required("rate_card.etag");
  bool rates = r.update_mask().paths_size() == 0;
  bool storage = rates;
  for (const std::string& path : r.update_mask().paths()) {
    if (path == "gpu_rates") {
      rates = true;
    } else if (path == "paused_storage_per_gb_month") {
      storage = true;
    } else {
      return InvalidFieldError(
          "update_mask",
          absl::StrCat("unknown path '", path,
                       "' (gpu_rates, paused_storage_per_gb_month)"));
    }
  }
  RateCardUpdate u;
  u.card = current;
  u.card.clear_etag();
  if (rates) *u.card.mutable_gpu_rates() = r.rate_card().gpu_rates();
  if (storage) {
    if (!r.rate_card().has_paused_storage_per_gb_month()) {
      return Required("rate_card.paused_storage_per_gb_month");
    }
    *u.card.mutable_paused_storage_per_gb_month() =
        r.rate_card().paused_storage_per_gb_month();
  }
  u.etag = r.rate_card().etag();
  u.force = r.force();
  return u;
}

absl::StatusOr<std::optional<common::v1::Budget>> ToBudget(
    std::string_view field, const common::v1::Budget& b, bool present) {
  if (!present || !b.has_limit()) return std::nullopt;
  if (b.limit().micros() <= 0) {
    return InvalidFieldError(absl::StrCat(std::string(field), ".limit"),
                             "must be > 0");
  }
  RETURN_IF_ERROR(CheckEnum(absl::StrCat(std::string(field), ".action"),
                            b.action(), common::v1::BudgetAction_IsValid,
                            false));
  common::v1::Budget out = b;
  if (out.action() == common::v1::BUDGET_ACTION_UNSPECIFIED) {
    out.set_action(common::v1::BUDGET_ACTION_ALERT);
  }
  return out;
}

absl::StatusOr<JobRegistration> ToRegistration(
    const v1::RegisterJobRequest& r) {
  RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
  if (!r.has_config()) return Required("config");
  RETURN_IF_ERROR(CheckTrainingConfig("config", r.config()));
  if (r.from_step() < 0) return InvalidFieldError("from_step", "must be >= 0");
  ASSIGN_OR_RETURN(std::optional<common::v1::Budget> budget,
                   ToBudget("budget", r.budget(), r.has_budget()));
  return JobRegistration{.job_id = r.job_id(),
                         .display_name = r.display_name(),
                         .created_by = r.created_by(),
                         .config = r.config(),
                         .budget = budget,
                         .from_step = r.from_step()};
}

absl::StatusOr<MeterOpening> ToOpening(const v1::OpenMeterRequest& r,
                                       absl::Time now) {
  if (r.request_id().empty()) return Required("request_id");
  RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
  if (r.attempt() < 0) return InvalidFieldError("attempt", "must be >= 0");
  MeterOpening o{.job_id = r.job_id(), .attempt = std::max(r.attempt(), 1)};
  switch (r.phase()) {
    case common::v1::COST_PHASE_ACTIVE_COMPUTE:
    case common::v1::COST_PHASE_RECOVERY_OVERHEAD:
      RETURN_IF_ERROR(CheckEnum("gpu_type", r.gpu_type(),
                                common::v1::GpuType_IsValid, true));
      RETURN_IF_ERROR(CheckEnum("pricing", r.pricing(),
                                common::v1::Pricing_IsValid, false));
      RETURN_IF_ERROR(CheckRange("gpu_count", true, r.gpu_count(), 0, 8));
      o.gpu_type = r.gpu_type();
      o.gpu_count = std::max(r.gpu_count(), 1);
      o.pricing = r.pricing();
      o.pod_id = r.pod_id();
      break;
    case common::v1::COST_PHASE_PAUSED_STORAGE:
      if (r.storage_bytes() <= 0) {
        return InvalidFieldError("storage_bytes",
                                 "must be > 0 for a PAUSED_STORAGE meter");
      }
      o.storage_bytes = r.storage_bytes();
      break;
    case common::v1::COST_PHASE_WASTED_STEPS:
      return InvalidFieldError(
          "phase", "WASTED_STEPS is derived when a meter closes; never opened");
    default:
      return r.phase() == 0 ? Required("phase")
                            : InvalidFieldError("phase", "unknown value");
  }
  o.phase = r.phase();
  if (r.has_start_time()) {
    ASSIGN_OR_RETURN(o.start_time,
                     NotInFuture("start_time", r.start_time(), now));
  } else {
    o.start_time = now;
  }
  return o;
}

absl::StatusOr<CostBook::Closing> ToClosing(const v1::CloseMeterRequest& r,
                                            absl::Time now) {
  if (r.meter_id().empty()) return Required("meter_id");
  RETURN_IF_ERROR(
      CheckEnum("reason", r.reason(), v1::MeterCloseReason_IsValid, true));
  CostBook::Closing c;
  c.closing.meter_id = r.meter_id();
  c.closing.reason = r.reason();
  if (r.has_end_time()) {
    ASSIGN_OR_RETURN(c.closing.end_time,
                     NotInFuture("end_time", r.end_time(), now));
    c.closing.end_time_given = true;
  }
  if (r.has_last_step()) {
    if (r.last_step() < 0)
      return InvalidFieldError("last_step", "must be >= 0");
    c.last_step = r.last_step();
  }
  if (r.has_last_checkpoint_step()) {
    if (r.last_checkpoint_step() < 0 ||
        (r.has_last_step() && r.last_checkpoint_step() > r.last_step())) {
      return InvalidFieldError("last_checkpoint_step", "must be 0..last_step");
    }
    c.last_checkpoint_step = r.last_checkpoint_step();
  }
  return c;
}

absl::StatusOr<LedgerPage> ToLedgerPage(const v1::ListLedgerEntriesRequest& r) {
  LedgerPage page;
  if (r.job_id() != "-") RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
  page.query.job_id = r.job_id();
  if (r.page_size() < 0) {
    return InvalidFieldError("page_size", "must not be negative");
  }
  page.page_size = r.page_size() == 0 ? kDefaultPageSize
                                      : std::min(r.page_size(), kMaxPageSize);
  ASSIGN_OR_RETURN(BoundFilter filter, BindFilter(r.filter(), LedgerFields()));
  for (const BoundTerm& term : filter.all_of) {
    std::vector<LedgerComparison>& out = page.query.clauses.emplace_back();
    for (const BoundRestriction& c : term.any_of) {
      const auto field = static_cast<LedgerComparison::Field>(c.id);
      out.push_back({field, c.op,
                     field == LedgerComparison::Field::kStartTime
                         ? absl::ToUnixMillis(c.time)
                         : c.number});
    }
  }
  const std::string order = absl::AsciiStrToLower(r.order_by());
  if (order.empty() || order == "start_time" || order == "start_time asc") {
    page.query.order = LedgerOrder::kStartTime;
  } else if (order == "start_time desc") {
    page.query.order = LedgerOrder::kStartTimeDesc;
  } else if (order == "amount desc") {
    page.query.order = LedgerOrder::kAmountDesc;
  } else {
    return InvalidFieldError(
        "order_by",
        "one of \"start_time\", \"start_time desc\", \"amount desc\"");
  }
  page.binding = absl::StrCat(r.job_id(), "\n", r.filter(), "\n", order);
  if (!r.page_token().empty()) {
    ASSIGN_OR_RETURN(std::string payload,
                     paging::DecodeOpaqueToken("page_token", "ledger",
                                               page.binding, r.page_token()));
    if (!absl::SimpleAtoi(payload, &page.offset) || page.offset < 0) {
      return paging::InvalidTokenError("page_token", "malformed");
    }
  }
  return page;
}

std::string NextLedgerToken(const LedgerPage& page, int64_t next_offset) {
  return paging::EncodeOpaqueToken("ledger", page.binding,
                                   absl::StrCat(next_offset));
}

absl::StatusOr<ReportQuery> ToReportQuery(const v1::GetCostReportRequest& r,
                                          absl::Time now) {
  ReportQuery q;
  // An open end means up to now, inclusive of what happened at `now`.
  q.end = r.period().has_end_time() ? FromProto(r.period().end_time())
                                    : now + absl::Nanoseconds(1);
  q.start = r.period().has_start_time() ? FromProto(r.period().start_time())
                                        : q.end - kDefaultReportPeriod;
  if (q.start >= q.end) {
    return InvalidFieldError("period", "start_time must be before end_time");
  }
  if (q.end - q.start > kMaxReportPeriod) {
    return InvalidFieldError("period", "at most 366 days");
  }
  RETURN_IF_ERROR(CheckEnum("group_by", r.group_by(),
                            v1::CostReportGrouping_IsValid, false));
  if (r.group_by() != v1::COST_REPORT_GROUPING_UNSPECIFIED) {
    q.group_by = r.group_by();
  }
  switch (r.format()) {
    case common::v1::EXPORT_FORMAT_UNSPECIFIED:
      break;
    case common::v1::EXPORT_FORMAT_CSV:
      q.csv = true;
      break;
    default:
      return InvalidFieldError("format",
                               "only EXPORT_FORMAT_CSV (or unset: rows only)");
  }
  ASSIGN_OR_RETURN(BoundFilter filter, BindFilter(r.filter(), ReportFields()));
  for (const BoundTerm& term : filter.all_of) {
    for (const BoundRestriction& c : term.any_of) {
      const bool eq = c.op == FilterOp::kEq;
      const int v = static_cast<int>(c.number);
      switch (static_cast<ReportField>(c.id)) {
        case ReportField::kCreatedBy:
          q.created_by.eq.push_back(c.value.text);
          break;
        case ReportField::kJobId:
          q.job_id.eq.push_back(c.value.text);
          break;
        case ReportField::kPreset:
          (eq ? q.preset.eq : q.preset.ne).push_back(v);
          break;
        case ReportField::kGpuType:
          (eq ? q.gpu_type.eq : q.gpu_type.ne).push_back(v);
          break;
        case ReportField::kPricing:
          q.pricing.eq.push_back(v);
          break;
      }
    }
  }
  return q;
}

absl::StatusOr<FinalizeInput> ToFinalize(const v1::FinalizeJobCostRequest& r,
                                         absl::Time now) {
  RETURN_IF_ERROR(ValidateId("job_id", r.job_id()));
  switch (r.final_state()) {
    case common::v1::JOB_STATE_COMPLETED:
    case common::v1::JOB_STATE_FAILED:
    case common::v1::JOB_STATE_CANCELLED:
      break;
    default:
      return InvalidFieldError("final_state", "COMPLETED, FAILED or CANCELLED");
  }
  FinalizeInput in{.state = r.final_state()};
  if (r.has_end_time()) {
    ASSIGN_OR_RETURN(in.end_time, NotInFuture("end_time", r.end_time(), now));
  }
  return in;
}

}  // namespace trainyard::cost
