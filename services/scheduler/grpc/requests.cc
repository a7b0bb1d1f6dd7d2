// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/requests.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/time/proto_time.h"
#include "services/scheduler/domain/promotion_rules.h"
#include "services/scheduler/grpc/filter.h"
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

// ANDs `clauses` over the values `get` extracts per field.
template <typename T>
std::function<bool(const T&)> Conjunction(
    std::vector<std::function<bool(const T&)>> tests) {
  if (tests.empty()) return nullptr;
  return [tests = std::move(tests)](const T& item) {
    for (const auto& t : tests) {
      if (!t(item)) return false;
    }
    return true;
  };
}

// `=` (or an OR group of `=`) matches any of `values`; `!=` matches none.
template <typename T, typename V, typename Get>
std::function<bool(const T&)> Matches(const FilterClause& c,
                                      std::vector<V> values, Get get) {
  return [negate = c.op == FilterOp::kNe, values = std::move(values),
          get](const T& item) {
    const bool found =
        std::find(values.begin(), values.end(), get(item)) != values.end();
    return found != negate;
  };
}

template <typename T, typename Get>
std::function<bool(const T&)> Compare(const FilterClause& c, Get get) {
  return Matches<T>(c, c.values, get);
}

// Enum clause: compares the enum's number.
template <typename T, typename Enum, typename Get>
absl::StatusOr<std::function<bool(const T&)>> CompareEnum(
    const FilterClause& c, std::string_view prefix,
    bool (*parse)(const std::string&, Enum*), Get get) {
  std::vector<Enum> values;
  for (const std::string& text : c.values) {
    auto value = ParseEnumValue<Enum>(text, prefix, parse);
    if (!value.ok()) return value.status();
    values.push_back(*value);
  }
  return Matches<T>(c, std::move(values), get);
}

// Time clause (`create_time >= "2026-11-01T00:00:00Z"`).
template <typename T, typename Get>
absl::StatusOr<std::function<bool(const T&)>> CompareTime(const FilterClause& c,
                                                          Get get) {
  absl::Time bound;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, c.values.front(), &bound, &error)) {
    return InvalidFilterError(
        absl::StrCat(c.field, " takes an RFC 3339 time in quotes: ", error));
  }
  return std::function<bool(const T&)>([op = c.op, bound, get](const T& item) {
    const absl::Time t = get(item);
    switch (op) {
      case FilterOp::kLt:
        return t < bound;
      case FilterOp::kLe:
        return t <= bound;
      case FilterOp::kGt:
        return t > bound;
      case FilterOp::kGe:
        return t >= bound;
      case FilterOp::kNe:
        return t != bound;
      default:
        return t == bound;
    }
  });
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
  auto clauses =
      ParseListFilter(r.filter(), {{"created_by", {}},
                                   {"promoted", {}},
                                   {"preset", {.not_equal = true}},
                                   {"gpu_type", {.not_equal = true}},
                                   {"pricing", {}},
                                   {"confidence", {.not_equal = true}}});
  if (!clauses.ok()) return clauses.status();
  using E = v1::QueueEntry;
  std::vector<std::function<bool(const E&)>> tests;
  for (const FilterClause& c : *clauses) {
    absl::StatusOr<std::function<bool(const E&)>> t;
    if (c.field == "created_by") {
      t = Compare<E>(c, [](const E& e) { return e.created_by().user_id(); });
    } else if (c.field == "promoted") {
      for (const std::string& v : c.values) {
        if (v != "true" && v != "false") return FilterValueError("promoted", v);
      }
      t = Compare<E>(c, [](const E& e) {
        return std::string(e.promoted() ? "true" : "false");
      });
    } else if (c.field == "preset") {
      t = CompareEnum<E>(c, "PRESET_", &common::v1::Preset_Parse,
                         [](const E& e) { return e.config().preset(); });
    } else if (c.field == "gpu_type") {
      t = CompareEnum<E>(c, "GPU_TYPE_", &common::v1::GpuType_Parse,
                         [](const E& e) { return e.config().gpu_type(); });
    } else if (c.field == "pricing") {
      t = CompareEnum<E>(c, "PRICING_", &common::v1::Pricing_Parse,
                         [](const E& e) { return e.config().pricing(); });
    } else {
      t = CompareEnum<E>(c, "CONFIDENCE_", &v1::Confidence_Parse,
                         [](const E& e) { return e.confidence(); });
    }
    if (!t.ok()) return t.status();
    tests.push_back(*std::move(t));
  }
  q->match = Conjunction(std::move(tests));
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
  auto clauses = ParseListFilter(
      r.filter(), {{"created_by", {}}, {"gpu_type", {}}, {"job_state", {}}});
  if (!clauses.ok()) return clauses.status();
  using S = v1::Slot;
  std::vector<std::function<bool(const S&)>> tests;
  for (const FilterClause& c : *clauses) {
    absl::StatusOr<std::function<bool(const S&)>> t;
    if (c.field == "created_by") {
      t = Compare<S>(c, [](const S& s) { return s.created_by().user_id(); });
    } else if (c.field == "gpu_type") {
      t = CompareEnum<S>(c, "GPU_TYPE_", &common::v1::GpuType_Parse,
                         [](const S& s) { return s.config().gpu_type(); });
    } else {
      t = CompareEnum<S>(c, "JOB_STATE_", &common::v1::JobState_Parse,
                         [](const S& s) { return s.job_state(); });
    }
    if (!t.ok()) return t.status();
    tests.push_back(*std::move(t));
  }
  SlotQuery out;
  out.list = *std::move(q);
  out.list.match = Conjunction(std::move(tests));
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
  auto clauses =
      ParseListFilter(r.filter(), {{"state", {.not_equal = true}},
                                   {"job_id", {}},
                                   {"requester", {}},
                                   {"reason", {}},
                                   {"create_time", {.ordered = true}}});
  if (!clauses.ok()) return clauses.status();
  using P = v1::Promotion;
  std::vector<std::function<bool(const P&)>> tests;
  for (const FilterClause& c : *clauses) {
    absl::StatusOr<std::function<bool(const P&)>> t;
    if (c.field == "state") {
      t = CompareEnum<P>(c, "PROMOTION_STATE_", &v1::PromotionState_Parse,
                         [](const P& p) { return p.state(); });
    } else if (c.field == "job_id") {
      t = Compare<P>(c, [](const P& p) { return p.job_id(); });
    } else if (c.field == "requester") {
      t = Compare<P>(c, [](const P& p) { return p.requester().user_id(); });
    } else if (c.field == "create_time") {
      t = CompareTime<P>(c,
                         [](const P& p) { return FromProto(p.create_time()); });
    } else {
      t = CompareEnum<P>(c, "PROMOTION_REASON_", &v1::PromotionReason_Parse,
                         [](const P& p) { return p.reason(); });
    }
    if (!t.ok()) return t.status();
    tests.push_back(*std::move(t));
  }
  PromotionQuery out;
  out.list = *std::move(q);
  out.list.match = Conjunction(std::move(tests));
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
