// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/metrics/events/event_query.h
// -----------------------------------------------------------------------------
//
// What a list or export of the event log selects (R-EVT-01, R-EVT-02,
// R-EVT-03, R-EVT-05), validated once and compiled into a predicate over the
// few facts of an event the selection depends on (EventFacts). ListEvents
// evaluates it over the in-memory index, ExportEvents over events read from
// RocksDB; both go through CompileEventQuery and EventSelector, so the two
// RPCs cannot disagree about which events a request means.
//
// Semantics (metrics.proto, EventQuery and ListEventsRequest):
//   query.types       any of these types; empty = all
//   query.keyword     case-insensitive substring of the message
//                     (keyword_matcher.h), 1..200 code points; empty = none
//   query.time_range  occurred_time in [start_time, end_time); open ends
//   filter            AIP-160 subset, AND-ed with the above:
//     source       =, !=            CONTAINER | CONTROL_PLANE
//     attempt      =, !=, <, <=, >, >=
//     job_seq      =, !=, <, <=, >, >=
//     stage        =, !=            PREPROCESSING | MODEL_LOADING | TRAINING |
//                                   FINALIZATION (or STAGE_-prefixed)
//     receive_time <, <=, >, >=     "RFC 3339"
//   order_by          "job_seq" | "job_seq asc" (default) | "job_seq desc"
//
// `stage` exists only on events with a status payload: a restriction on it,
// = or !=, is false for every other event ("stage != TRAINING" selects status
// reports of the other stages, not METRICS events).
//
// Errors are INVALID_ARGUMENT with one field violation naming the request
// field: "query.types", "query.keyword", "query.time_range", "filter" (also
// reason INVALID_FILTER) or "order_by".

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/search/filter_parser.h"
#include "common/search/keyword_matcher.h"
#include "google/protobuf/timestamp.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// EventFacts::stage of an event without a status payload.
inline constexpr uint8_t kNoStage = 0xFF;

// Longest keyword, in code points (metrics.proto).
inline constexpr size_t kMaxKeywordCodePoints = 200;

// The fields of an event a selection can test, apart from the message.
struct EventFacts {
  uint64_t job_seq = 0;
  // Nanoseconds since the Unix epoch, saturated to int64 (years 1678..2262
  // are exact; earlier or later times compare as the nearest bound).
  int64_t occurred_ns = 0;
  int64_t receive_ns = 0;
  int32_t attempt = 0;
  uint8_t type = 0;          // common.v1.EventType
  uint8_t source = 0;        // common.v1.EventSource
  uint8_t stage = kNoStage;  // common.v1.Stage of the status payload
};

// The facts of a stored event.
EventFacts FactsOf(const metrics::v1::Event& event);

// `t` in nanoseconds since the epoch, saturated to int64.
int64_t SaturatedNanos(const google::protobuf::Timestamp& t);
int64_t SaturatedNanos(absl::Time t);

enum class EventOrder { kOldestFirst, kNewestFirst };

// A validated, compiled selection. Immutable, thread-safe, cheap to evaluate.
class EventSelector {
 public:
  // True when the event passes types, time range and filter (everything but
  // the keyword).
  bool MatchesFacts(const EventFacts& facts) const;

  // True when the type passes (part of MatchesFacts, for a cheap first test).
  bool MatchesType(uint8_t type) const {
    return type_mask_ == 0 ||
           (type < 32 && (type_mask_ & (uint32_t{1} << type)) != 0);
  }
  // True when types (or nothing) are all that select: no keyword, time range
  // or filter. Then MatchesType alone decides, and counting is one byte per
  // event (or free without types).
  bool SelectsByTypeOnly() const {
    return !keyword_ && !start_ns_ && !end_ns_ && filter_.empty();
  }
  bool SelectsAllTypes() const { return type_mask_ == 0; }

  // Keyword matches in the folded message, at most `limit`; 1 when there is
  // no keyword (every message matches). An event is selected when
  // MatchesFacts and MatchesText() > 0.
  int MatchesText(std::string_view folded_message, int limit) const {
    return keyword_ ? keyword_->CountIn(folded_message, limit) : 1;
  }

  // The keyword matcher, or null without a keyword.
  const KeywordMatcher* keyword() const {
    return keyword_ ? &*keyword_ : nullptr;
  }

  EventOrder order() const { return order_; }

  // A canonical text of everything that selects and orders events (not
  // page_size), equal for requests that mean the same thing; page tokens are
  // bound to it.
  const std::string& canonical() const { return canonical_; }

 private:
  friend absl::StatusOr<EventSelector> CompileEventQuery(
      const metrics::v1::EventQuery&, std::string_view, std::string_view);

  enum class Field { kSource, kAttempt, kJobSeq, kStage, kReceiveTime };
  struct Restriction {
    Field field;
    FilterOp op;
    int64_t value = 0;     // all fields but job_seq
    uint64_t u_value = 0;  // job_seq
  };

  static bool Holds(const Restriction& r, const EventFacts& facts);

  uint32_t type_mask_ = 0;  // bit t set = type t selected; 0 = all
  std::optional<KeywordMatcher> keyword_;
  std::optional<int64_t> start_ns_;               // inclusive
  std::optional<int64_t> end_ns_;                 // exclusive
  std::vector<std::vector<Restriction>> filter_;  // AND of ORs
  EventOrder order_ = EventOrder::kOldestFirst;
  std::string canonical_;
};

// Validates and compiles a request's selection.
absl::StatusOr<EventSelector> CompileEventQuery(
    const metrics::v1::EventQuery& query, std::string_view filter,
    std::string_view order_by);

}  // namespace trainyard::metrics
