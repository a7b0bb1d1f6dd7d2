// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/requests.h"

#include <algorithm>
#include <functional>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/search/filter_binder.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/time/proto_time.h"
#include "services/scheduler/domain/promotion_rules.h"
#include "services/scheduler/grpc/tokens.h"

namespace trainyard::scheduler {
namespace {

using common::v1::NotificationTrigger;

constexpr int kMaxHeldJobs = 1000;

bool IsQueueTrigger(NotificationTrigger t) {
  return t == common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_THREE ||
         t == common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_ONE ||
         t == common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED ||
         t == common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED;
}

void CheckTriggers(const google::protobuf::RepeatedField<int>& triggers,
                   const std::string& field, std::vector<FieldViolation>& bad) {
  for (int i = 0; i < triggers.size(); ++i) {
    if (!IsQueueTrigger(static_cast<NotificationTrigger>(triggers[i]))) {
      bad.push_back({absl::StrCat(field, "[", i, "]"),
                     "only QUEUE_POSITION_THREE, QUEUE_POSITION_ONE, "
                     "PROVISIONING_STARTED, TRAINING_STARTED"});
    }
  }
}

void CheckTargets(const google::protobuf::RepeatedPtrField<
                      common::v1::NotificationTarget>& targets,
                  const std::string& field, std::vector<FieldViolation>& bad) {
  for (int i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    if (t.channel() == common::v1::NOTIFICATION_CHANNEL_UNSPECIFIED) {
      bad.push_back({absl::StrCat(field, "[", i, "].channel"), "required"});
    }
    if (t.address().empty() || t.address().size() > 254) {
      bad.push_back(
          {absl::StrCat(field, "[", i, "].address"), "1 to 254 characters"});
    }
  }
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max) {
  if (requested < 0)
    return InvalidFieldError("page_size", "must not be negative");
  if (requested == 0) return default_size;
  return std::min(requested, max);
}

template <typename T>
absl::StatusOr<ListQuery<T>> BaseQuery(std::string_view kind, int page_size,
                                       int default_size, int max,
                                       const std::string& filter,
                                       const std::string& order_by,
                                       const std::string& token) {
  ListQuery<T> q;
  auto size = PageSize(page_size, default_size, max);
  if (!size.ok()) return size.status();
  q.page_size = *size;
  q.binding = absl::StrCat(filter, "\n", order_by);
  if (!token.empty()) {
    auto offset = DecodePageToken(kind, q.binding, token);
    if (!offset.ok()) return offset.status();
    q.offset = *offset;
  }
  return q;
}

// An item's value of a filter field: text, number (enums, bools) or time.
using FieldValue = std::variant<std::string, int64_t, absl::Time>;

bool Holds(const BoundRestriction& r, const FieldValue& v) {
  if (const auto* text = std::get_if<std::string>(&v)) {
    return FilterCompare(r.op, *text, r.value.text);
  }
  if (const auto* number = std::get_if<int64_t>(&v)) {
    return FilterCompare(r.op, *number, r.number);
  }
  return FilterCompare(r.op, std::get<absl::Time>(v), r.time);
}

// The predicate of `filter` (null when empty: everything matches);
// `value(item, id)` reads the field of id `id` of an item.
template <typename T>
std::function<bool(const T&)> Matcher(BoundFilter filter,
                                      FieldValue (*value)(const T&, int)) {
  if (filter.all_of.empty()) return nullptr;
  return [filter = std::move(filter), value](const T& item) {
    return std::ranges::all_of(filter.all_of, [&](const BoundTerm& term) {
      return std::ranges::any_of(term.any_of, [&](const BoundRestriction& r) {
        return Holds(r, value(item, r.id));
      });
    });
  };
}

// The scheduler's filter fields (scheduler.proto): OR groups of `=` only;
// enum values in exact case, with or without their prefix, UNSPECIFIED being
// one.
FilterField Field(std::string_view name, int id, std::vector<FilterOp> ops,
                  FilterValueKind kind = FilterValueKind::kString) {
  return {.name = name,
          .id = id,
          .ops = std::move(ops),
          .kind = kind,
          .or_groups = FilterOrGroups::kEqualOnly};
}

FilterField EnumField(std::string_view name, int id, std::vector<FilterOp> ops,
                      const google::protobuf::EnumDescriptor* type) {
  FilterField f = Field(name, id, std::move(ops), FilterValueKind::kEnum);
  f.enum_type = type;
  f.enum_case = FilterEnumCase::kExact;
  f.enum_unspecified = true;
  return f;
}

enum QueueField {
  kCreatedBy,
  kPromoted,
  kPreset,
  kGpuType,
  kPricing,
  kConfidence
};
enum SlotField { kSlotCreatedBy, kSlotGpuType, kSlotJobState };
enum PromotionField { kState, kJobId, kRequester, kReason, kCreateTime };

const std::vector<FilterField>& QueueFields() {
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      Field("created_by", kCreatedBy, {kEq}),
      Field("promoted", kPromoted, {kEq}, FilterValueKind::kBool),
      EnumField("preset", kPreset, {kEq, kNe}, common::v1::Preset_descriptor()),
      EnumField("gpu_type", kGpuType, {kEq, kNe},
                common::v1::GpuType_descriptor()),
      EnumField("pricing", kPricing, {kEq}, common::v1::Pricing_descriptor()),
      EnumField("confidence", kConfidence, {kEq, kNe},
                v1::Confidence_descriptor()),
  };
  return *fields;
}

FieldValue QueueValue(const v1::QueueEntry& e, int field) {
  switch (static_cast<QueueField>(field)) {
    case kCreatedBy:
      return e.created_by().user_id();
    case kPromoted:
      return int64_t{e.promoted()};
    case kPreset:
      return int64_t{e.config().preset()};
    case kGpuType:
      return int64_t{e.config().gpu_type()};
    case kPricing:
      return int64_t{e.config().pricing()};
    case kConfidence:
      return int64_t{e.confidence()};
  }
  return {};
}

const std::vector<FilterField>& SlotFields() {
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      Field("created_by", kSlotCreatedBy, {kEq}),
      EnumField("gpu_type", kSlotGpuType, {kEq},
                common::v1::GpuType_descriptor()),
      EnumField("job_state", kSlotJobState, {kEq},
                common::v1::JobState_descriptor()),
  };
  return *fields;
}

FieldValue SlotValue(const v1::Slot& s, int field) {
  switch (static_cast<SlotField>(field)) {
    case kSlotCreatedBy:
      return s.created_by().user_id();
    case kSlotGpuType:
      return int64_t{s.config().gpu_type()};
    case kSlotJobState:
      return int64_t{s.job_state()};
  }
  return {};
}

const std::vector<FilterField>& PromotionFields() {
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      EnumField("state", kState, {kEq, kNe}, v1::PromotionState_descriptor()),
      Field("job_id", kJobId, {kEq}),
      Field("requester", kRequester, {kEq}),
      EnumField("reason", kReason, {kEq}, v1::PromotionReason_descriptor()),
      Field("create_time", kCreateTime, {kEq, kLt, kLe, kGt, kGe},
            FilterValueKind::kTime),
  };
  return *fields;
}

FieldValue PromotionValue(const v1::Promotion& p, int field) {
  switch (static_cast<PromotionField>(field)) {
    case kState:
      return int64_t{p.state()};
    case kJobId:
      return p.job_id();
    case kRequester:
      return p.requester().user_id();
    case kReason:
      return int64_t{p.reason()};
    case kCreateTime:
      return FromProto(p.create_time());
  }
  return {};
}

}  // namespace

absl::StatusOr<EnqueueCommand> ToEnqueue(const v1::EnqueueRequest& r) {
  std::vector<FieldViolation> bad;
  if (auto v = IdViolation("job_id", r.job_id())) bad.push_back(*v);
  if (!r.has_create_time()) bad.push_back({"create_time", "required"});
  if (!r.has_estimated_duration() ||
      FromProto(r.estimated_duration()) <= absl::ZeroDuration()) {
    bad.push_back({"estimated_duration", "required, > 0"});
  } else if (FromProto(r.estimated_duration()) > absl::Hours(24 * 30)) {
    bad.push_back({"estimated_duration", "at most 30 days"});
  }
  if (r.attempt() < 1) bad.push_back({"attempt", "must be >= 1"});
  if (r.display_name().size() > 200) {
    bad.push_back({"display_name", "at most 200 characters"});
  }
  CheckTriggers(r.notification_triggers(), "notification_triggers", bad);
  CheckTargets(r.notification_targets(), "notification_targets", bad);
  if (!bad.empty()) return InvalidFieldsError(bad);
  EnqueueCommand cmd;
  cmd.request_id = r.request_id();
  v1::QueueEntry& e = cmd.entry;
  e.set_job_id(r.job_id());
  e.set_display_name(r.display_name());
  *e.mutable_created_by() = r.created_by();
  *e.mutable_create_time() = r.create_time();
  *e.mutable_config() = r.config();
  *e.mutable_estimated_duration() = r.estimated_duration();
  e.set_attempt(r.attempt());
  for (int t : r.notification_triggers()) {
    cmd.triggers.push_back(static_cast<NotificationTrigger>(t));
  }
  cmd.targets.assign(r.notification_targets().begin(),
                     r.notification_targets().end());
  return cmd;
}

absl::StatusOr<RemoveCommand> ToRemove(const v1::RemoveFromQueueRequest& r) {
  if (auto s = ValidateId("job_id", r.job_id()); !s.ok()) return s;
  if (r.attempt() < 0) return InvalidFieldError("attempt", "must be >= 0");
  return RemoveCommand{r.request_id(), r.job_id(), r.attempt(), r.reason()};
}

absl::StatusOr<ReleaseCommand> ToRelease(const v1::ReleaseSlotRequest& r) {
  std::vector<FieldViolation> bad;
  if (auto v = IdViolation("job_id", r.job_id())) bad.push_back(*v);
  if (r.outcome() == v1::SLOT_OUTCOME_UNSPECIFIED ||
      !v1::SlotOutcome_IsValid(r.outcome())) {
    bad.push_back({"outcome", "required"});
  }
  if (r.assignment_id().empty() && r.attempt() < 1) {
    bad.push_back({"attempt", "must be >= 1 (or name the assignment_id)"});
  }
  if (!bad.empty()) return InvalidFieldsError(bad);
  return ReleaseCommand{r.request_id(), r.job_id(), r.attempt(), r.outcome(),
                        r.assignment_id()};
}

absl::StatusOr<PromotionCommand> ToPromotion(
    const v1::RequestPromotionRequest& r) {
  if (auto s = ValidateId("job_id", r.job_id()); !s.ok()) return s;
  if (auto s = ValidatePromotionRequest(r.reason(), r.justification());
      !s.ok()) {
    return s;
  }
  return PromotionCommand{r.request_id(), r.job_id(), r.reason(),
                          r.justification(), r.validate_only()};
}

absl::StatusOr<ReconcileQuery> ToReconcile(const v1::ReconcileRequest& r) {
  if (r.held_jobs_size() > kMaxHeldJobs) {
    return InvalidFieldError("held_jobs", "at most 1,000");
  }
  ReconcileQuery q;
  for (int i = 0; i < r.held_jobs_size(); ++i) {
    const v1::HeldJob& h = r.held_jobs(i);
    if (auto s =
            ValidateId(absl::StrCat("held_jobs[", i, "].job_id"), h.job_id());
        !s.ok()) {
      return s;
    }
    q.held.push_back({h.job_id(), h.assignment_id(), h.attempt()});
  }
  auto seq = DecodeAssignmentCursor("cursor", r.cursor());
  if (!seq.ok()) return seq.status();
  q.cursor_seq = *seq;
  q.validate_only = r.validate_only();
  return q;
}

absl::StatusOr<ListQuery<v1::QueueEntry>> ToQueueQuery(
    const v1::ListQueueEntriesRequest& r) {
  if (!r.order_by().empty() && r.order_by() != "position") {
    return InvalidFieldError("order_by", "only \"position\"");
  }
  auto q = BaseQuery<v1::QueueEntry>("queue", r.page_size(), 50, 500,
                                     r.filter(), r.order_by(), r.page_token());
  if (!q.ok()) return q.status();
  auto filter = BindFilter(r.filter(), QueueFields());
  if (!filter.ok()) return filter.status();
  q->match = Matcher(*std::move(filter), &QueueValue);
  return q;
}

absl::StatusOr<SlotQuery> ToSlotQuery(const v1::ListActiveSlotsRequest& r) {
  if (!r.order_by().empty() && r.order_by() != "slot_index" &&
      r.order_by() != "assign_time") {
    return InvalidFieldError("order_by", "\"slot_index\" or \"assign_time\"");
  }
  auto q = BaseQuery<v1::Slot>("slots", r.page_size(), 100, 100, r.filter(),
                               r.order_by(), r.page_token());
  if (!q.ok()) return q.status();
  auto filter = BindFilter(r.filter(), SlotFields());
  if (!filter.ok()) return filter.status();
  SlotQuery out;
  out.list = *std::move(q);
  out.list.match = Matcher(*std::move(filter), &SlotValue);
  out.by_assign_time = r.order_by() == "assign_time";
  return out;
}

absl::StatusOr<PromotionQuery> ToPromotionQuery(
    const v1::ListPromotionsRequest& r) {
  if (!r.order_by().empty() && r.order_by() != "create_time desc" &&
      r.order_by() != "create_time" && r.order_by() != "expire_time") {
    return InvalidFieldError(
        "order_by", "\"create_time desc\", \"create_time\" or \"expire_time\"");
  }
  auto q = BaseQuery<v1::Promotion>("promotions", r.page_size(), 50, 200,
                                    r.filter(), r.order_by(), r.page_token());
  if (!q.ok()) return q.status();
  auto filter = BindFilter(r.filter(), PromotionFields());
  if (!filter.ok()) return filter.status();
  PromotionQuery out;
  out.list = *std::move(q);
  out.list.match = Matcher(*std::move(filter), &PromotionValue);
  out.order_by = r.order_by().empty() ? "create_time desc" : r.order_by();
  return out;
}

std::string NextPageToken(std::string_view kind, const std::string& binding,
                          int64_t offset, size_t returned, int64_t total) {
  int64_t next = offset + static_cast<int64_t>(returned);
  if (next >= total) return "";
  return EncodePageToken(kind, binding, next);
}

absl::StatusOr<AnalyticsPeriod> ToPeriod(const v1::GetQueueAnalyticsRequest& r,
                                         absl::Time now) {
  AnalyticsPeriod p{now - absl::Hours(24 * 7), now};
  if (r.period().has_end_time()) p.end = FromProto(r.period().end_time());
  if (r.period().has_start_time()) {
    p.start = FromProto(r.period().start_time());
  } else if (r.period().has_end_time()) {
    p.start = p.end - absl::Hours(24 * 7);
  }
  if (p.end <= p.start) {
    return InvalidFieldError("period.end_time", "must be after start_time");
  }
  if (p.end - p.start > absl::Hours(24 * 366)) {
    return InvalidFieldError("period", "at most 366 days");
  }
  return p;
}

absl::StatusOr<NotificationUpdate> ToNotificationUpdate(
    const v1::UpdateQueueNotificationSettingsRequest& r) {
  if (auto s = ValidateId("settings.job_id", r.settings().job_id()); !s.ok()) {
    return s;
  }
  NotificationUpdate u;
  u.settings = r.settings();
  if (r.has_update_mask() && r.update_mask().paths_size() > 0) {
    u.triggers = u.targets = false;
    for (const std::string& path : r.update_mask().paths()) {
      if (path == "triggers") {
        u.triggers = true;
      } else if (path == "targets") {
        u.targets = true;
      } else {
        return InvalidFieldError("update_mask",
                                 absl::StrCat("unknown path '", path, "'"));
      }
    }
  }
  std::vector<FieldViolation> bad;
  CheckTriggers(r.settings().triggers(), "settings.triggers", bad);
  CheckTargets(r.settings().targets(), "settings.targets", bad);
  if (!bad.empty()) return InvalidFieldsError(bad);
  return u;
}

absl::StatusOr<std::vector<std::string>> ToSettingsPaths(
    const v1::UpdateQueueSettingsRequest& r) {
  if (!r.has_settings()) return InvalidFieldError("settings", "required");
  if (r.settings().etag().empty()) {
    return InvalidFieldError("settings.etag", "required");
  }
  return std::vector<std::string>(r.update_mask().paths().begin(),
                                  r.update_mask().paths().end());
}

}  // namespace trainyard::scheduler
