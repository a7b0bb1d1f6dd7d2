// Copyright 2026 Trainyard authors.
#include "services/jobs/views/job_query.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/paging/opaque_token.h"
#include "common/search/filter_binder.h"
#include "common/search/keyword_matcher.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/lifecycle.h"

namespace trainyard::jobs {
namespace {

using Field = JobRestriction::Field;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

const std::vector<FilterField>& Fields() {
  using enum FilterOp;
  using K = FilterValueKind;
  auto id = [](Field f) { return static_cast<int>(f); };
  static const auto* fields = new std::vector<FilterField>{
      {.name = "state",
       .id = id(Field::kState),
       .ops = {kEq, kNe},
       .kind = K::kEnum,
       .enum_type = common::v1::JobState_descriptor()},
      {.name = "active",
       .id = id(Field::kActive),
       .ops = {kEq},
       .kind = K::kBool,
       .bare = true},
      {.name = "terminal",
       .id = id(Field::kTerminal),
       .ops = {kEq},
       .kind = K::kBool,
       .bare = true},
      {.name = "created_by", .id = id(Field::kCreatedBy), .ops = {kEq, kNe}},
      {.name = "create_time",
       .id = id(Field::kCreateTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = K::kTime},
      {.name = "start_time",
       .id = id(Field::kStartTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = K::kTime},
      {.name = "end_time",
       .id = id(Field::kEndTime),
       .ops = {kLt, kLe, kGt, kGe},
       .kind = K::kTime},
      {.name = "preset",
       .id = id(Field::kPreset),
       .ops = {kEq, kNe},
       .kind = K::kEnum,
       .enum_type = common::v1::Preset_descriptor()},
      {.name = "gpu_type",
       .id = id(Field::kGpuType),
       .ops = {kEq, kNe},
       .kind = K::kEnum,
       .enum_type = common::v1::GpuType_descriptor()},
      {.name = "pricing",
       .id = id(Field::kPricing),
       .ops = {kEq, kNe},
       .kind = K::kEnum,
       .enum_type = common::v1::Pricing_descriptor()},
      // An amount in currency units (50 or 49.99).
      {.name = "cost",
       .id = id(Field::kCost),
       .ops = {kEq, kLt, kLe, kGt, kGe},
       .kind = K::kNumber,
       .bare = true,
       .min = 0,
       .max = 1e9},
      {.name = "tags", .id = id(Field::kTags), .ops = {kHas}},
      {.name = "base_model", .id = id(Field::kBaseModel), .ops = {kEq, kHas}},
      {.name = "stalled",
       .id = id(Field::kStalled),
       .ops = {kEq},
       .kind = K::kBool,
       .bare = true},
  };
  return *fields;
}

JobRestriction Typed(const BoundRestriction& r) {
  JobRestriction out;
  out.field = static_cast<Field>(r.id);
  out.op = static_cast<int>(r.op);
  out.number = r.number;  // enums and bools
  switch (out.field) {
    case Field::kCreatedBy:
      out.text = r.value.text;
      break;
    case Field::kTags:
    case Field::kBaseModel:
      out.text = FoldCase(r.value.text);
      break;
    case Field::kCreateTime:
    case Field::kStartTime:
    case Field::kEndTime:
      out.number = absl::ToUnixMicros(r.time);
      break;
    case Field::kCost:
      out.number = std::llround(r.real * 1e6);
      break;
    default:
      break;
  }
  return out;
}

bool Compare(int64_t value, int op, int64_t operand) {
  return FilterCompare(static_cast<FilterOp>(op), value, operand);
}

// A time restriction on an unset time (never started / not ended) is false.
bool CompareTime(int64_t us, const JobRestriction& r) {
  return us != 0 && Compare(us, r.op, r.number);
}

bool Test(const JobRestriction& r, const JobRow& row) {
  switch (r.field) {
    case Field::kState:
      return Compare(row.state, r.op, r.number);
    case Field::kActive:
      return IsActive(row.state) == (r.number == 1);
    case Field::kTerminal:
      return IsTerminal(row.state) == (r.number == 1);
    case Field::kStalled:
      return row.stalled == (r.number == 1);
    case Field::kCreatedBy:
      return (row.creator_id == r.text) ==
             (static_cast<FilterOp>(r.op) == FilterOp::kEq);
    case Field::kCreateTime:
      return CompareTime(row.create_us, r);
    case Field::kStartTime:
      return CompareTime(row.start_us, r);
    case Field::kEndTime:
      return CompareTime(row.end_us, r);
    case Field::kPreset:
      return Compare(row.preset, r.op, r.number);
    case Field::kGpuType:
      return Compare(row.gpu_type, r.op, r.number);
    case Field::kPricing:
      return Compare(row.pricing, r.op, r.number);
    case Field::kCost:
      return Compare(row.cost_micros, r.op, r.number);
    case Field::kTags:
      for (const std::string& t : row.tags_folded) {
        if (t == r.text) return true;
      }
      return false;
    case Field::kBaseModel:
      return static_cast<FilterOp>(r.op) == FilterOp::kEq
                 ? row.base_model_folded == r.text
                 : row.base_model_folded.find(r.text) != std::string::npos;
  }
  return false;
}

struct SortSpec {
  std::string_view name;
  SortField field;
};

constexpr SortSpec kSorts[] = {
    {"display_name", SortField::kDisplayName},
    {"state", SortField::kState},
    {"preset", SortField::kPreset},
    {"gpu_type", SortField::kGpuType},
    {"pricing", SortField::kPricing},
    {"created_by", SortField::kCreatedBy},
    {"create_time", SortField::kCreateTime},
    {"start_time", SortField::kStartTime},
    {"duration", SortField::kDuration},
    {"cost", SortField::kCost},
    {"progress", SortField::kProgress},
    {"update_time", SortField::kUpdateTime},
};

absl::StatusOr<JobOrder> ParseOrder(std::string_view order_by) {
  JobOrder order;
  std::vector<std::string> words = absl::StrSplit(
      ToAbsl(order_by), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return order;
  std::vector<std::string> names;
  for (const SortSpec& s : kSorts) names.emplace_back(s.name);
  const SortSpec* spec = nullptr;
  for (const SortSpec& s : kSorts) {
    if (s.name == words[0]) spec = &s;
  }
  if (spec == nullptr) {
    return InvalidFieldError(
        "order_by", absl::StrCat("unknown sort field \"", words[0],
                                 "\"; one of ", absl::StrJoin(names, ", "),
                                 ", each with \" asc\" or \" desc\""));
  }
  if (words.size() > 2 ||
      (words.size() == 2 && words[1] != "asc" && words[1] != "desc")) {
    return InvalidFieldError(
        "order_by", absl::StrCat("expected \"", words[0], " asc\" or \"",
                                 words[0], " desc\" (one sort field)"));
  }
  order.field = spec->field;
  order.desc = words.size() == 2 && words[1] == "desc";
  return order;
}

}  // namespace

JobRow MakeJobRow(const internal::JobRecord& record) {
  const v1::Job& job = record.job();
  JobRow row;
  row.job_id = job.job_id();
  row.state = job.state();
  row.creator_id = job.created_by().user_id();
  row.creator_name = job.created_by().display_name().empty()
                         ? job.created_by().user_id()
                         : job.created_by().display_name();
  row.creator_name_folded = FoldCase(row.creator_name);
  row.name_folded = FoldCase(job.spec().display_name());
  row.text_folded = row.name_folded;
  row.text_folded.push_back('\n');
  AppendFolded(job.spec().notes(), &row.text_folded);
  row.text_folded.push_back('\n');
  for (const std::string& tag : job.spec().tags()) {
    row.tags_folded.push_back(FoldCase(tag));
    row.text_folded.append(row.tags_folded.back());
    row.text_folded.push_back('\n');
  }
  row.text_folded.shrink_to_fit();
  const common::v1::TrainingConfig& c = job.spec().config();
  row.base_model_folded = FoldCase(c.base_model());
  row.preset = c.preset();
  row.gpu_type = c.gpu_type();
  row.pricing = c.pricing();
  row.create_us = Micros(job.create_time());
  row.update_us = Micros(job.update_time());
  if (job.has_start_time()) row.start_us = Micros(job.start_time());
  if (job.has_end_time()) row.end_us = Micros(job.end_time());
  row.cost_micros = job.cost().spend().micros();
  row.progress_percent = job.progress().percent();
  row.stalled = job.progress().stalled() || record.has_stall_since();
  row.step = job.progress().step();
  row.stage = job.progress().stage();
  row.etag = job.etag();
  row.cost_as_of_us = Micros(job.cost().as_of());
  return row;
}

absl::StatusOr<JobQuery> ParseJobQuery(std::string_view filter,
                                       std::string_view keyword,
                                       std::string_view order_by) {
  JobQuery query;
  ASSIGN_OR_RETURN(BoundFilter bound, BindFilter(filter, Fields()));
  for (const BoundTerm& term : bound.all_of) {
    std::vector<JobRestriction>& any_of = query.all_of.emplace_back();
    for (const BoundRestriction& r : term.any_of) any_of.push_back(Typed(r));
  }
  if (CountCodePoints(keyword) > kMaxKeywordCodePoints) {
    return InvalidFieldError(
        "keyword",
        absl::StrCat("at most ", kMaxKeywordCodePoints, " characters"));
  }
  if (keyword.find('\n') != std::string_view::npos) {
    return InvalidFieldError("keyword", "must be one line");
  }
  query.keyword_folded = FoldCase(keyword);
  ASSIGN_OR_RETURN(query.order, ParseOrder(order_by));
  query.binding = absl::StrCat(
      absl::StripAsciiWhitespace(ToAbsl(filter)), "\n", query.keyword_folded,
      "\n", static_cast<int>(query.order.field), query.order.desc);
  return query;
}

bool Matches(const JobQuery& query, const JobRow& row) {
  for (const std::vector<JobRestriction>& any_of : query.all_of) {
    bool ok = false;
    for (const JobRestriction& r : any_of) {
      if (Test(r, row)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }
  return query.keyword_folded.empty() ||
         row.text_folded.find(query.keyword_folded) != std::string::npos;
}

KeyView KeyOf(const JobRow& row, SortField field, int64_t now_us) {
  KeyView k;
  k.create_us = row.create_us;
  k.job_id = row.job_id;
  switch (field) {
    case SortField::kDisplayName:
      k.text = row.name_folded;
      break;
    case SortField::kState:
      k.number = row.state;
      break;
    case SortField::kPreset:
      k.number = row.preset;
      break;
    case SortField::kGpuType:
      k.number = row.gpu_type;
      break;
    case SortField::kPricing:
      k.number = row.pricing;
      break;
    case SortField::kCreatedBy:
      k.text = row.creator_name_folded;
      break;
    case SortField::kCreateTime:
      k.number = row.create_us;
      break;
    case SortField::kStartTime:
      k.missing = row.start_us == 0;
      k.number = row.start_us;
      break;
    case SortField::kDuration:
      k.missing = row.start_us == 0;
      k.number = (row.end_us != 0 ? row.end_us : now_us) - row.start_us;
      break;
    case SortField::kCost:
      k.number = row.cost_micros;
      break;
    case SortField::kProgress:
      k.number = std::llround(row.progress_percent * 1e6);
      break;
    case SortField::kUpdateTime:
      k.number = row.update_us;
      break;
  }
  return k;
}

bool SortLess(const KeyView& a, const KeyView& b, bool desc) {
  if (a.missing != b.missing) return !a.missing;
  if (!a.missing) {
    if (a.number != b.number)
      return desc ? a.number > b.number : a.number < b.number;
    if (a.text != b.text) return desc ? a.text > b.text : a.text < b.text;
  }
  if (a.create_us != b.create_us) return a.create_us > b.create_us;
  return a.job_id < b.job_id;
}

SortKey SortKey::Of(const KeyView& v) {
  return SortKey{v.missing, v.number, std::string(v.text), v.create_us,
                 std::string(v.job_id)};
}

std::string EncodeSortKey(const SortKey& key) {
  // Signed values are stored offset by 2^63 so they stay unsigned.
  constexpr uint64_t kBias = uint64_t{1} << 63;
  return storage::KeyBuilder()
      .AddUint64(key.missing ? 1 : 0)
      .AddUint64(static_cast<uint64_t>(key.number) + kBias)
      .AddString(key.text)
      .AddUint64(static_cast<uint64_t>(key.create_us) + kBias)
      .AddString(key.job_id)
      .Build();
}

absl::StatusOr<SortKey> DecodeSortKey(std::string_view payload) {
  constexpr uint64_t kBias = uint64_t{1} << 63;
  storage::KeyReader reader(payload);
  uint64_t missing = 0, number = 0, create = 0;
  SortKey key;
  if (!reader.ReadUint64(&missing) || !reader.ReadUint64(&number) ||
      !reader.ReadString(&key.text) || !reader.ReadUint64(&create) ||
      !reader.ReadString(&key.job_id) || !reader.done() || missing > 1) {
    return paging::InvalidTokenError("page_token", "not a jobs-list position");
  }
  key.missing = missing == 1;
  key.number = static_cast<int64_t>(number - kBias);
  key.create_us = static_cast<int64_t>(create - kBias);
  return key;
}

}  // namespace trainyard::jobs
