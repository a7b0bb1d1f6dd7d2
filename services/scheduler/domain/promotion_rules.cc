// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/promotion_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/utf8.h"
#include "common/time/proto_time.h"
#include "services/scheduler/domain/errors.h"

namespace trainyard::scheduler {
namespace {

// Code points in valid UTF-8 (REQUIRES: IsValidUtf8).
int CodePoints(std::string_view text) {
  int n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

absl::Status ValidatePromotionRequest(v1::PromotionReason reason,
                                      std::string_view justification) {
  std::vector<FieldViolation> bad;
  if (reason == v1::PROMOTION_REASON_UNSPECIFIED ||
      !v1::PromotionReason_IsValid(reason)) {
    bad.push_back({"reason",
                   "required: one of CLIENT_DEADLINE, "
                   "CRITICAL_BUSINESS_NEED, TESTING_URGENT_FIX, "
                   "MANAGER_OVERRIDE"});
  }
  if (!IsValidUtf8(justification)) {
    bad.push_back({"justification", "must be valid UTF-8"});
  } else {
    int n = CodePoints(justification);
    if (n < kMinJustification || n > kMaxJustification) {
      bad.push_back({"justification",
                     absl::StrCat("must be 100 to 500 characters; has ", n)});
    }
  }
  if (!bad.empty()) return InvalidFieldsError(bad);
  return absl::OkStatus();
}

bool ExpireIfDue(v1::Promotion& promotion, absl::Time now) {
  if (promotion.state() != v1::PROMOTION_STATE_PENDING) return false;
  if (now < FromProto(promotion.expire_time())) return false;
  promotion.set_state(v1::PROMOTION_STATE_EXPIRED);
  *promotion.mutable_decide_time() = promotion.expire_time();
  promotion.set_etag(PromotionEtag(promotion));
  return true;
}

absl::Status CheckDecision(const v1::Promotion& promotion,
                           const auth::Principal& decider,
                           std::string_view etag, std::string_view comment) {
  if (etag.empty()) return InvalidFieldError("etag", "required");
  if (!IsValidUtf8(comment) || CodePoints(comment) > kMaxComment) {
    return InvalidFieldError("comment", "at most 500 characters of UTF-8");
  }
  if (decider.role != auth::Role::kManager &&
      decider.role != auth::Role::kAdmin) {
    return WithReason(absl::PermissionDeniedError(
                          "only a manager or an admin decides promotions"),
                      kReasonApproverRoleRequired);
  }
  if (decider.user == promotion.requester().user_id()) {
    return WithReason(absl::PermissionDeniedError(
                          "the requester cannot decide their own promotion"),
                      kReasonSelfApproval);
  }
  if (promotion.state() != v1::PROMOTION_STATE_PENDING) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "promotion is ", v1::PromotionState_Name(promotion.state()))),
        kReasonPromotionNotPending);
  }
  if (etag != promotion.etag()) {
    return EtagMismatchError("the promotion", promotion.etag());
  }
  return absl::OkStatus();
}

void Decide(v1::Promotion& promotion, v1::PromotionState state,
            const auth::Principal& decider, std::string_view comment,
            absl::Time now) {
  promotion.set_state(state);
  *promotion.mutable_decide_time() = ToProto(now);
  promotion.mutable_decider()->set_user_id(decider.user);
  promotion.set_decider_role(decider.role == auth::Role::kAdmin
                                 ? common::v1::ROLE_ADMIN
                                 : common::v1::ROLE_MANAGER);
  promotion.set_decision_comment(std::string(comment));
  promotion.set_etag(PromotionEtag(promotion));
}

std::string PromotionEtag(const v1::Promotion& promotion) {
  return absl::StrCat("\"", v1::PromotionState_Name(promotion.state()), "-",
                      absl::ToUnixMicros(FromProto(promotion.decide_time())),
                      "\"");
}

v1::PromotionImpact ImpactOf(int current_position, int new_position,
                             const std::vector<std::string>& job_ids,
                             const std::vector<absl::Time>& start_before,
                             const std::vector<absl::Time>& start_after) {
  v1::PromotionImpact impact;
  impact.set_current_position(current_position);
  impact.set_new_position(new_position);
  absl::Duration total, max;
  int delayed = 0;
  // The jobs between the new and the old place move down one.
  for (int pos = new_position; pos < current_position; ++pos) {
    size_t i = static_cast<size_t>(pos - 1);
    if (i >= job_ids.size() || i >= start_before.size() ||
        i >= start_after.size()) {
      break;
    }
    absl::Duration delay =
        std::max(start_after[i] - start_before[i], absl::ZeroDuration());
    ++delayed;
    total += delay;
    max = std::max(max, delay);
    impact.add_delayed_job_ids(job_ids[i]);
  }
  impact.set_delayed_job_count(delayed);
  absl::Duration average = delayed > 0 ? total / delayed : absl::Duration();
  *impact.mutable_average_delay() = ToProto(average);
  *impact.mutable_max_delay() = ToProto(max);
  impact.set_summary(
      delayed == 0
          ? "Will delay no other job"
          : absl::StrCat("Will delay ", delayed,
                         delayed == 1 ? " other job" : " other jobs", " by ~",
                         absl::ToInt64Minutes(average + absl::Seconds(30)),
                         " min", delayed == 1 ? "" : " each"));
  return impact;
}

}  // namespace trainyard::scheduler
