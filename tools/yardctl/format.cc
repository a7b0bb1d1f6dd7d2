// Copyright 2026 Trainyard authors.
#include "tools/yardctl/format.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/strings/csv.h"
#include "common/time/proto_time.h"
#include "google/protobuf/util/json_util.h"

namespace trainyard::yardctl {

std::string FormatMoney(const common::v1::Money& money) {
  if (money.currency_code().empty() && money.micros() == 0) return "-";
  int64_t m = money.micros();
  std::string sign = m < 0 ? "-" : "";
  m = std::llabs(m);
  // Cents, rounded half up, as the frontends show them.
  int64_t cents = (m + 5000) / 10000;
  std::string amount =
      absl::StrFormat("%s%d.%02d", sign, cents / 100, cents % 100);
  if (money.currency_code() == "USD" || money.currency_code().empty()) {
    return sign.empty() ? absl::StrCat("$", amount)
                        : absl::StrCat("-$", amount.substr(1));
  }
  return absl::StrCat(amount, " ", money.currency_code());
}

std::string FormatDuration(const google::protobuf::Duration& d) {
  int64_t s = d.seconds();
  if (s == 0 && d.nanos() == 0) return "-";
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", FromProto(t),
                          absl::UTCTimeZone());
}

std::string ShortEnumName(const std::string& full, const std::string& prefix) {
  if (full.starts_with(prefix)) return full.substr(prefix.size());
  return full;
}

std::string StateName(common::v1::JobState s) {
  return ShortEnumName(common::v1::JobState_Name(s), "JOB_STATE_");
}
std::string StageName(common::v1::Stage s) {
  return ShortEnumName(common::v1::Stage_Name(s), "STAGE_");
}
std::string GpuName(common::v1::GpuType g) {
  return ShortEnumName(common::v1::GpuType_Name(g), "GPU_TYPE_");
}
std::string PricingName(common::v1::Pricing p) {
  return ShortEnumName(common::v1::Pricing_Name(p), "PRICING_");
}
std::string PresetName(common::v1::Preset p) {
  return ShortEnumName(common::v1::Preset_Name(p), "PRESET_");
}

absl::StatusOr<int> ParseEnum(const google::protobuf::EnumDescriptor* type,
                              const std::string& prefix,
                              const std::string& text,
                              const std::string& flag) {
  std::string upper = absl::AsciiStrToUpper(text);
  std::replace(upper.begin(), upper.end(), '-', '_');
  std::vector<std::string> accepted;
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (v->number() == 0) continue;
    std::string short_name = ShortEnumName(v->name(), prefix);
    if (upper == v->name() || upper == short_name) return v->number();
    accepted.push_back(absl::AsciiStrToLower(short_name));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      flag, ": \"", text, "\" is not one of ", absl::StrJoin(accepted, ", ")));
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = false;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  if (pretty && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void PrintTable(const Table& table, const std::string& output) {
  std::string out;
  if (output == "json") {
    out = "[";
    for (size_t i = 0; i < table.messages.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "\n  " : ",\n  ",
                      ToJson(*table.messages[i]));
    }
    absl::StrAppend(&out, table.messages.empty() ? "]\n" : "\n]\n");
  } else if (output == "csv") {
    auto row = [&out](const std::vector<std::string>& fields) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendCsvField(fields[i], &out);
      }
      out.push_back('\n');
    };
    row(table.header);
    for (const auto& r : table.rows) row(r);
  } else {
    std::vector<size_t> width(table.header.size(), 0);
    auto measure = [&width](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], r[i].size());
      }
    };
    measure(table.header);
    for (const auto& r : table.rows) measure(r);
    auto row = [&](const std::vector<std::string>& r) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        absl::StrAppend(&line, r[i]);
        if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
      }
      absl::StrAppend(&out, line, "\n");
    };
    row(table.header);
    for (const auto& r : table.rows) row(r);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace trainyard::yardctl
