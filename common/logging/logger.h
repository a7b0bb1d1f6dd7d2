// Copyright 2026 Trainyard authors.
//
// One line per event, as text or JSON:
//   2026-11-29T03:00:00.123Z INFO rpc
//   method=/trainyard.jobs.v1.JobService/GetJob code=OK user=alice ms=0.41
//   {"ts":"2026-11-29T03:00:00.123Z","level":"INFO","event":"rpc","method":"...","code":"OK",...}
//
//   logger.Info("server.start", {{"grpc", "127.0.0.1:7101"}, {"auth",
//   "tokens"}});
//
// JSON lines are written with nlohmann-json: keys in order (a key already on
// the line keeps its first value), bytes that are not valid UTF-8 replaced by
// U+FFFD, so that every line is valid JSON; text values that need quoting are
// JSON strings too.
//
// Thread-safe: each line is written whole. The logger is passed by reference
// (no global); it writes to stderr unless a test gives it another sink.
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/time/clock.h"

namespace trainyard {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText, kJson };

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text);
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);

using LogField = std::pair<std::string_view, std::string_view>;

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;

  // `clock` must outlive the logger. Without a sink, lines go to stderr.
  Logger(const Clock& clock, LogFormat format, LogLevel min_level,
         Sink sink = nullptr);

  void Log(LogLevel level, std::string_view event,
           absl::Span<const LogField> fields = {});
  void Debug(std::string_view e, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kDebug, e, f);
  }
  void Info(std::string_view e, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kInfo, e, f);
  }
  void Warning(std::string_view e, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kWarning, e, f);
  }
  void Error(std::string_view e, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kError, e, f);
  }

  bool Enabled(LogLevel level) const { return level >= min_level_; }

 private:
  const Clock& clock_;
  const LogFormat format_;
  const LogLevel min_level_;
  Sink sink_;
  absl::Mutex mu_;
};

}  // namespace trainyard
