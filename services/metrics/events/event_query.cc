// Copyright 2026 Trainyard authors.
#include "services/metrics/events/event_query.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/search/filter_binder.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/strings/utf8.h"
#include "google/protobuf/util/time_util.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::metrics {
namespace {

using ::google::protobuf::util::TimeUtil;
namespace common = ::trainyard::common::v1;

constexpr int64_t kMinNs = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();

int64_t SaturatedFromParts(int64_t seconds, int64_t nanos) {
  constexpr int64_t kBillion = 1'000'000'000;
  if (seconds > kMaxNs / kBillion - 1) return kMaxNs;
  if (seconds < kMinNs / kBillion + 1) return kMinNs;
  return seconds * kBillion + nanos;
}

bool IsValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 &&
         t.nanos() <= 999'999'999;
}

}  // namespace

int64_t SaturatedNanos(const google::protobuf::Timestamp& t) {
  return SaturatedFromParts(t.seconds(), t.nanos());
}

int64_t SaturatedNanos(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kMaxNs;
  if (t == absl::InfinitePast()) return kMinNs;
  const int64_t seconds = absl::ToUnixSeconds(t);
  return SaturatedFromParts(
      seconds, absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds)));
}

EventFacts FactsOf(const metrics::v1::Event& event) {
  EventFacts facts;
  facts.job_seq = event.job_seq();
  facts.occurred_ns = SaturatedNanos(event.occurred_time());
  facts.receive_ns = SaturatedNanos(event.receive_time());
  facts.attempt = event.attempt();
  facts.type = static_cast<uint8_t>(event.type());
  facts.source = static_cast<uint8_t>(event.source());
  if (event.has_status()) {
    facts.stage = static_cast<uint8_t>(event.status().stage());
  }
  return facts;
}

bool EventSelector::Holds(const Restriction& r, const EventFacts& facts) {
  switch (r.field) {
    case Field::kSource:
      return FilterCompare<int64_t>(r.op, facts.source, r.value);
    case Field::kAttempt:
      return FilterCompare<int64_t>(r.op, facts.attempt, r.value);
    case Field::kJobSeq:
      return FilterCompare<uint64_t>(r.op, facts.job_seq, r.u_value);
    case Field::kStage:
      return facts.stage != kNoStage &&
             FilterCompare<int64_t>(r.op, facts.stage, r.value);
    case Field::kReceiveTime:
      return FilterCompare<int64_t>(r.op, facts.receive_ns, r.value);
  }
  return false;
}

bool EventSelector::MatchesFacts(const EventFacts& facts) const {
  if (!MatchesType(facts.type)) return false;
  if (start_ns_ && facts.occurred_ns < *start_ns_) return false;
  if (end_ns_ && facts.occurred_ns >= *end_ns_) return false;
  for (const std::vector<Restriction>& any_of : filter_) {
    bool holds = false;
    for (const Restriction& r : any_of) {
      if (Holds(r, facts)) {
        holds = true;
        break;
      }
    }
    if (!holds) return false;
  }
  return true;
}

absl::StatusOr<EventSelector> CompileEventQuery(
    const metrics::v1::EventQuery& query, std::string_view filter,
    std::string_view order_by) {
  EventSelector s;

  // query.types
  for (int i = 0; i < query.types_size(); ++i) {
    const int type = query.types(i);
    if (type == common::EVENT_TYPE_UNSPECIFIED ||
        !common::EventType_IsValid(type) || type >= 32) {
      return InvalidFieldError(
          "query.types",
          absl::StrCat("element ", i, " is not a valid event type (", type,
                       ")"));
    }
    s.type_mask_ |= uint32_t{1} << type;
  }

  // query.keyword
  if (!query.keyword().empty()) {
    if (!IsValidUtf8(query.keyword())) {
      return InvalidFieldError("query.keyword", "is not valid UTF-8");
    }
    if (CountCodePoints(query.keyword()) > kMaxKeywordCodePoints) {
      return InvalidFieldError(
          "query.keyword",
          absl::StrCat("longer than ", kMaxKeywordCodePoints, " characters"));
    }
    s.keyword_.emplace(query.keyword());
  }

  // query.time_range
  if (query.has_time_range()) {
    const common::TimeRange& range = query.time_range();
    if (range.has_start_time()) {
      if (!IsValidTimestamp(range.start_time())) {
        return InvalidFieldError("query.time_range.start_time",
                                 "is not a valid timestamp");
      }
      s.start_ns_ = SaturatedNanos(range.start_time());
    }
    if (range.has_end_time()) {
      if (!IsValidTimestamp(range.end_time())) {
        return InvalidFieldError("query.time_range.end_time",
                                 "is not a valid timestamp");
      }
      s.end_ns_ = SaturatedNanos(range.end_time());
    }
    if (s.start_ns_ && s.end_ns_ && *s.end_ns_ < *s.start_ns_) {
      return InvalidFieldError("query.time_range",
                               "end_time is before start_time");
    }
  }

  // filter
  using Field = EventSelector::Field;
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      {.name = "source",
       .id = static_cast<int>(Field::kSource),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .bare = true,
       .enum_type = common::EventSource_descriptor(),
       .enum_case = FilterEnumCase::kExact},
      {.name = "attempt",
       .id = static_cast<int>(Field::kAttempt),
       .ops = {kEq, kNe, kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kInteger,
       .bare = true,
       .min = std::numeric_limits<int32_t>::min(),
       .max = std::numeric_limits<int32_t>::max()},
      {.name = "job_seq",
       .id = static_cast<int>(Field::kJobSeq),
       .ops = {kEq, kNe, kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kUnsigned,
       .bare = true},
      {.name = "stage",
       .id = static_cast<int>(Field::kStage),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .bare = true,
       .enum_type = common::Stage_descriptor(),
       .enum_case = FilterEnumCase::kExact},
      {.name = "receive_time",
       .id = static_cast<int>(Field::kReceiveTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kTime},
  };
  absl::StatusOr<BoundFilter> bound = BindFilter(filter, *fields);
  if (!bound.ok()) return bound.status();
  for (const BoundTerm& term : bound->all_of) {
    std::vector<EventSelector::Restriction>& any_of = s.filter_.emplace_back();
    for (const BoundRestriction& r : term.any_of) {
      EventSelector::Restriction out{static_cast<Field>(r.id), r.op, r.number,
                                     r.unsigned_number};
      if (out.field == Field::kReceiveTime) out.value = SaturatedNanos(r.time);
      any_of.push_back(out);
    }
  }

  // order_by
  std::vector<absl::string_view> words = absl::StrSplit(
      ToAbsl(order_by), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty() || (words.size() == 1 && words[0] == "job_seq") ||
      (words.size() == 2 && words[0] == "job_seq" && words[1] == "asc")) {
    s.order_ = EventOrder::kOldestFirst;
  } else if (words.size() == 2 && words[0] == "job_seq" && words[1] == "desc") {
    s.order_ = EventOrder::kNewestFirst;
  } else {
    return InvalidFieldError(
        "order_by", absl::StrCat("unsupported order \"", ToAbsl(order_by),
                                 "\" (accepted: \"job_seq\", \"job_seq asc\", "
                                 "\"job_seq desc\")"));
  }

  // Canonical form. The filter's text is used as written: two spellings of
  // the same filter make different (but each self-consistent) tokens.
  s.canonical_ = absl::StrCat(
      "types=", s.type_mask_, ";keyword=", query.keyword().size(), ":",
      query.keyword(), ";start=", s.start_ns_ ? absl::StrCat(*s.start_ns_) : "",
      ";end=", s.end_ns_ ? absl::StrCat(*s.end_ns_) : "",
      ";filter=", filter.size(), ":", ToAbsl(filter),
      ";order=", s.order_ == EventOrder::kNewestFirst ? "desc" : "asc");
  return s;
}

}  // namespace trainyard::metrics
