// Copyright 2026 Trainyard authors.
//
// Promotion rules (R-Q-05, domain.md "Queue"): who may decide, the
// justification bounds, expiry and the impact on other jobs. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

inline constexpr int kMinJustification = 100;  // Unicode code points
inline constexpr int kMaxJustification = 500;
inline constexpr int kMaxComment = 500;

// kInvalidArgument naming `reason` or `justification` (100..500 code points,
// valid UTF-8).
absl::Status ValidatePromotionRequest(v1::PromotionReason reason,
                                      std::string_view justification);

// A pending promotion past its expiry is EXPIRED (decide_time = expire_time).
// Returns whether it changed.
bool ExpireIfDue(v1::Promotion& promotion, absl::Time now);

// Checks a decision by `decider` at `now` (after ExpireIfDue):
// PERMISSION_DENIED SELF_APPROVAL for the requester, PERMISSION_DENIED below
// manager (or a service), FAILED_PRECONDITION PROMOTION_NOT_PENDING once
// decided, expired or obsolete, ABORTED on a stale etag, INVALID_ARGUMENT for
// a comment over 500 code points.
absl::Status CheckDecision(const v1::Promotion& promotion,
                           const auth::Principal& decider,
                           std::string_view etag, std::string_view comment);

// Records the decision (state, decider, time, comment, new etag).
void Decide(v1::Promotion& promotion, v1::PromotionState state,
            const auth::Principal& decider, std::string_view comment,
            absl::Time now);

// The etag of a promotion's current state.
std::string PromotionEtag(const v1::Promotion& promotion);

// The impact of moving a job from `current_position` to `new_position`
// (1-based), given each queued job's estimated start before and after, in
// the order before (ids alongside). Delays are the later starts of the jobs
// that move down; the summary reads "Will delay 4 other jobs by ~30 min each".
v1::PromotionImpact ImpactOf(int current_position, int new_position,
                             const std::vector<std::string>& job_ids,
                             const std::vector<absl::Time>& start_before,
                             const std::vector<absl::Time>& start_after);

}  // namespace trainyard::scheduler
