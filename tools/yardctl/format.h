// Copyright 2026 Trainyard authors.
//
// How yardctl shows values: money, durations, times, enum names without their
// prefix, and result sets as an aligned table, CSV or protobuf JSON (-o).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::yardctl {

// "$22.18" for USD, "22.18 EUR" otherwise; "-" when unset (no currency).
std::string FormatMoney(const common::v1::Money& money);
// "2h05m", "4m10s", "12s"; "-" for zero.
std::string FormatDuration(const google::protobuf::Duration& d);
// "2026-12-05 14:03:09Z"; "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& t);

// The value name of an enum without its type prefix: JOB_STATE_TRAINING ->
// TRAINING.
std::string ShortEnumName(const std::string& full, const std::string& prefix);
std::string StateName(common::v1::JobState s);
std::string StageName(common::v1::Stage s);
std::string GpuName(common::v1::GpuType g);
std::string PricingName(common::v1::Pricing p);
std::string PresetName(common::v1::Preset p);

// Parses an enum value given on the command line, case-insensitively, with or
// without its prefix ("balanced", "PRESET_BALANCED", "h100_80gb"). The
// unspecified value is refused. kInvalidArgument names `flag` and lists the
// accepted values.
absl::StatusOr<int> ParseEnum(const google::protobuf::EnumDescriptor* type,
                              const std::string& prefix,
                              const std::string& text, const std::string& flag);

// Protobuf JSON of `message` (one line unless `pretty`).
std::string ToJson(const google::protobuf::Message& message,
                   bool pretty = false);

// A result set printed as -o asks: table (aligned columns), csv (header and
// rows) or json (the protobuf JSON of `messages`, one array).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<const google::protobuf::Message*> messages;
};
void PrintTable(const Table& table, const std::string& output);

}  // namespace trainyard::yardctl
