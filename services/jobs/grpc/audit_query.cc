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
#include "common/search/filter_binder.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
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
  using Field = AuditQuery::Field;
  using enum FilterOp;
  static const auto* fields = new std::vector<FilterField>{
      {.name = "action",
       .id = static_cast<int>(Field::kAction),
       .ops = {kEq, kNe},
       .kind = FilterValueKind::kEnum,
       .bare = true,
       .enum_type = v1::AuditAction_descriptor()},
      {.name = "actor", .id = static_cast<int>(Field::kActor), .ops = {kEq}},
      {.name = "time",
       .id = static_cast<int>(Field::kTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = FilterValueKind::kTime},
  };
  AuditQuery q;
  ASSIGN_OR_RETURN(BoundFilter bound, BindFilter(filter, *fields));
  for (const BoundTerm& term : bound.all_of) {
    std::vector<AuditQuery::Restriction>& any_of = q.filter_.emplace_back();
    for (const BoundRestriction& r : term.any_of) {
      AuditQuery::Restriction out{static_cast<Field>(r.id), r.op, r.number};
      if (out.field == Field::kActor) {
        if (r.value.text.empty())
          return InvalidFilterValueError(r, "a user id");
        out.text = r.value.text;
      }
      if (out.field == Field::kTime) out.number = absl::ToUnixNanos(r.time);
      any_of.push_back(std::move(out));
    }
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
