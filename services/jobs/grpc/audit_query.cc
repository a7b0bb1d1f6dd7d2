// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/audit_query.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/paging/opaque_token.h"
#include "common/search/filter_parser.h"
#include "common/status/errors.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"

namespace trainyard::jobs {
namespace {

constexpr char kTokenKind[] = "audit";
// Signed nanoseconds are stored offset by 2^63 so they stay unsigned.
constexpr uint64_t kBias = uint64_t{1} << 63;

int64_t Nanos(const google::protobuf::Timestamp& t) {
  return absl::ToUnixNanos(FromProto(t));
}

uint64_t Seq(const v1::AuditEntry& e) {
  uint64_t seq = 0;
  return absl::SimpleAtoi(e.entry_id(), &seq) ? seq : 0;
}

// Where an entry sits in the listing's order (oldest first).
using Position = std::pair<int64_t, uint64_t>;
Position PositionOf(const v1::AuditEntry& e) {
  return {Nanos(e.time()), Seq(e)};
}

// The offending token as written, for error messages.
std::string Quoted(const FilterRestriction& r) {
  return r.value.quoted ? absl::StrCat("\"", r.value.text, "\"") : r.value.text;
}

std::string At(const FilterRestriction& r) {
  return absl::StrCat(" at position ", r.position);
}

}  // namespace

bool AuditQuery::Holds(const Restriction& r, const v1::AuditEntry& entry) {
  switch (r.field) {
    case Field::kAction:
      return FilterCompare<int64_t>(r.op, entry.action(), r.number);
    case Field::kActor:
      return FilterCompare<std::string>(r.op, entry.actor().user_id(), r.text);
    case Field::kTime:
      return FilterCompare<int64_t>(r.op, Nanos(entry.time()), r.number);
  }
  return false;
}

bool AuditQuery::Matches(const v1::AuditEntry& entry) const {
  for (const std::vector<Restriction>& any_of : filter_) {
    if (std::none_of(any_of.begin(), any_of.end(),
                     [&](const Restriction& r) { return Holds(r, entry); })) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<AuditQuery> CompileAuditQuery(std::string_view filter,
                                             std::string_view order_by) {
  AuditQuery q;
  absl::StatusOr<ParsedFilter> parsed = ParseFilter(filter);
  if (!parsed.ok()) return parsed.status();
  for (const FilterTerm& term : parsed->all_of) {
    std::vector<AuditQuery::Restriction> any_of;
    for (const FilterRestriction& r : term.any_of) {
      AuditQuery::Restriction out{AuditQuery::Field::kAction, r.op};
      std::string_view accepted;
      if (r.field == "action") {
        out.field = AuditQuery::Field::kAction;
        accepted = "=, !=";
      } else if (r.field == "actor") {
        out.field = AuditQuery::Field::kActor;
        accepted = "=";
      } else if (r.field == "time") {
        out.field = AuditQuery::Field::kTime;
        accepted = "<, <=, >, >=";
      } else {
        return InvalidFilterError(
            absl::StrCat("unknown field \"", r.field, "\"", At(r),
                         " (accepted: action, actor, time)"));
      }
      const bool ordered = r.op == FilterOp::kLt || r.op == FilterOp::kLe ||
                           r.op == FilterOp::kGt || r.op == FilterOp::kGe;
      const bool ok_op = out.field == AuditQuery::Field::kAction
                             ? r.op == FilterOp::kEq || r.op == FilterOp::kNe
                         : out.field == AuditQuery::Field::kActor
                             ? r.op == FilterOp::kEq
                             : ordered;
      if (!ok_op) {
        return InvalidFilterError(
            absl::StrCat("operator \"", ToAbsl(FilterOpText(r.op)),
                         "\" is not accepted for ", r.field, At(r),
                         " (accepted: ", ToAbsl(accepted), ")"));
      }
      switch (out.field) {
        case AuditQuery::Field::kAction: {
          const std::optional<int> v = FilterEnumValue(
              *v1::AuditAction_descriptor(), "AUDIT_ACTION_", r.value.text);
          if (r.value.quoted || !v) {
            return InvalidFilterError(absl::StrCat(
                "unknown action ", Quoted(r), At(r),
                " (expected an unquoted AuditAction, e.g. CANCELLED)"));
          }
          out.number = *v;
          break;
        }
        case AuditQuery::Field::kActor:
          if (r.value.text.empty()) {
            return InvalidFilterError(
                absl::StrCat("empty actor", At(r), " (expected a user id)"));
          }
          out.text = r.value.text;
          break;
        case AuditQuery::Field::kTime: {
          absl::Time t;
          std::string err;
          if (!r.value.quoted ||
              !absl::ParseTime(absl::RFC3339_full, r.value.text, &t, &err)) {
            return InvalidFilterError(absl::StrCat(
                "invalid time ", Quoted(r), At(r),
                " (expected an RFC 3339 time in double quotes, e.g. "
                "\"2026-11-29T03:05:00Z\")"));
          }
          out.number = absl::ToUnixNanos(t);
          break;
        }
      }
      any_of.push_back(std::move(out));
    }
    q.filter_.push_back(std::move(any_of));
  }

  std::vector<absl::string_view> words = absl::StrSplit(
      ToAbsl(order_by), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty() || (words.size() == 1 && words[0] == "time") ||
      (words.size() == 2 && words[0] == "time" && words[1] == "asc")) {
    q.newest_first_ = false;
  } else if (words.size() == 2 && words[0] == "time" && words[1] == "desc") {
    q.newest_first_ = true;
  } else {
    return InvalidFieldError(
        "order_by", absl::StrCat("unsupported order \"", ToAbsl(order_by),
                                 "\" (accepted: \"time\", \"time asc\", "
                                 "\"time desc\")"));
  }
  // The filter's text as written: two spellings of one filter make different
  // (each self-consistent) tokens.
  q.canonical_ = absl::StrCat("filter=", filter.size(), ":", ToAbsl(filter),
                              ";order=", q.newest_first_ ? "desc" : "asc");
  return q;
}

absl::StatusOr<AuditPage> PageAudit(std::vector<v1::AuditEntry> entries,
                                    const AuditQuery& query,
                                    std::string_view job_id,
                                    std::string_view page_token,
                                    int page_size) {
  const std::string binding =
      absl::StrCat(ToAbsl(job_id), "|", query.canonical());
  std::optional<Position> after;
  if (!page_token.empty()) {
    absl::StatusOr<std::string> payload = paging::DecodeOpaqueToken(
        "page_token", kTokenKind, binding, page_token);
    if (!payload.ok()) return payload.status();
    storage::KeyReader reader(*payload);
    uint64_t time = 0, seq = 0;
    if (!reader.ReadUint64(&time) || !reader.ReadUint64(&seq) ||
        !reader.done()) {
      return paging::InvalidTokenError("page_token",
                                       "not an audit-list position");
    }
    after = Position{static_cast<int64_t>(time - kBias), seq};
  }
  std::erase_if(entries,
                [&](const v1::AuditEntry& e) { return !query.Matches(e); });
  AuditPage page;
  page.total_size = static_cast<int32_t>(entries.size());
  const bool desc = query.newest_first();
  auto before = [desc](const Position& a, const Position& b) {
    return desc ? b < a : a < b;
  };
  std::sort(entries.begin(), entries.end(),
            [&](const v1::AuditEntry& a, const v1::AuditEntry& b) {
              return before(PositionOf(a), PositionOf(b));
            });
  auto it = entries.begin();
  if (after) {
    it = std::upper_bound(entries.begin(), entries.end(), *after,
                          [&](const Position& p, const v1::AuditEntry& e) {
                            return before(p, PositionOf(e));
                          });
  }
  for (;
       it != entries.end() && static_cast<int>(page.entries.size()) < page_size;
       ++it) {
    page.entries.push_back(std::move(*it));
  }
  if (it != entries.end() && !page.entries.empty()) {
    const Position last = PositionOf(page.entries.back());
    page.next_page_token = paging::EncodeOpaqueToken(
        kTokenKind, binding,
        storage::KeyBuilder()
            .AddUint64(static_cast<uint64_t>(last.first) + kBias)
            .AddUint64(last.second)
            .Build());
  }
  return page;
}

}  // namespace trainyard::jobs
