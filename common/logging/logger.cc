// Copyright 2026 Trainyard authors.
#include "common/logging/logger.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/strings/json.h"
#include "nlohmann/json.hpp"

namespace trainyard {
namespace {

constexpr std::string_view kLevelNames[] = {"DEBUG", "INFO", "WARNING",
                                            "ERROR"};

// Keys keep their order.
using Json = nlohmann::ordered_json;

// Text values with spaces, quotes or '=' (or nothing) are quoted as JSON
// strings so that a line stays machine-splittable (logfmt).
void AppendTextValue(std::string* out, std::string_view v) {
  bool plain =
      !v.empty() && v.find_first_of(" \"=\n\t") == std::string_view::npos;
  if (plain) {
    out->append(v);
  } else {
    out->append(JsonText(Json(v)));
  }
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string t = absl::AsciiStrToLower(ToAbsl(text));
  if (t == "debug") return LogLevel::kDebug;
  if (t == "info") return LogLevel::kInfo;
  if (t == "warning") return LogLevel::kWarning;
  if (t == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", ToAbsl(text), "\" is not one of debug, info, warning, error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", ToAbsl(text), "\" is not one of text, json"));
}

Logger::Logger(const Clock& clock, LogFormat format, LogLevel min_level,
               Sink sink)
    : clock_(clock),
      format_(format),
      min_level_(min_level),
      sink_(std::move(sink)) {}

void Logger::Log(LogLevel level, std::string_view event,
                 absl::Span<const LogField> fields) {
  if (!Enabled(level)) return;
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_.Now(),
                                    absl::UTCTimeZone());
  std::string_view level_name = kLevelNames[static_cast<int>(level)];
  std::string line;
  if (format_ == LogFormat::kJson) {
    Json object = Json::object();
    object.emplace("ts", std::move(ts));
    object.emplace("level", level_name);
    object.emplace("event", event);
    // A key already on the line keeps its first value.
    for (const auto& [k, v] : fields) object.emplace(std::string(k), v);
    line = JsonText(object);
  } else {
    absl::StrAppend(&line, ts, " ", ToAbsl(level_name), " ", ToAbsl(event));
    for (const auto& [k, v] : fields) {
      absl::StrAppend(&line, " ", ToAbsl(k), "=");
      AppendTextValue(&line, v);
    }
  }
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (sink_) {
    sink_(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace trainyard
