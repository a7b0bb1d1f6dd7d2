// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/metrics/events/event_export.h
// -----------------------------------------------------------------------------
//
// File formats of ExportEvents (R-EVT-05) and their cutting into stream
// chunks. EventStore::Export selects the events; this writes them.
//
//   CSV    RFC 4180, UTF-8, CRLF line ends, a header row, columns
//          job_seq,occurred_time,receive_time,type,source,attempt,attempt_seq,
//          event_id,message,payload_json
//          Times are RFC 3339 UTC as in protobuf JSON
//          ("2026-11-29T03:05:00.123Z"); type and source are enum names without
//          prefix ("METRICS", "CONTAINER", as written in filters); payload_json
//          is the raw JSON payload (Event.raw_json). Fields are written by
//          common/strings/csv.h: quoted when they hold a comma, a double
//          quote, CR or LF (quotes inside doubled), and a cell a spreadsheet
//          would evaluate as a formula (starting with =, +, -, @, tab or CR)
//          gets a leading single quote (OWASP CSV injection). JSON and JSONL
//          keep every byte.
//   JSON   one array: "[\n" + objects joined by ",\n" + "\n]\n" ("[]\n" when
//          empty); objects are the protobuf JSON of Event (lowerCamelCase,
//          default values omitted; raw payload in "rawJson").
//   JSONL  one such object per line, each line ending in "\n".
//
// Chunks hold at most `chunk_bytes` (64 KiB) of the file; a row may be split
// across chunks. The first chunk carries filename and content_type, the last
// event_count; a small file is one chunk carrying all three.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

inline constexpr size_t kMaxExportChunkBytes = size_t{64} << 10;

// "{job_id}-events-{yyyyMMdd'T'HHmmss'Z'}.{csv|json|jsonl}" at `now` (UTC).
// REQUIRES: format is CSV, JSON or JSONL.
std::string ExportFilename(std::string_view job_id, absl::Time now,
                           common::v1::ExportFormat format);

// Writes one export, in order: Add() for each event, then Finish().
// Thread-compatible.
class ExportWriter {
 public:
  using Sink =
      absl::FunctionRef<absl::Status(const metrics::v1::ExportEventsResponse&)>;

  // `sink` receives the chunks; its first error stops the export and is
  // returned by the call that met it. REQUIRES: format is CSV, JSON or JSONL;
  // 0 < chunk_bytes <= kMaxExportChunkBytes; `sink` outlives the writer.
  ExportWriter(common::v1::ExportFormat format, std::string filename, Sink sink,
               size_t chunk_bytes = kMaxExportChunkBytes);

  absl::Status Add(const metrics::v1::Event& event);

  // Writes the end of the file and the last chunk (with event_count).
  absl::Status Finish();

  int64_t event_count() const { return event_count_; }

 private:
  // Sends full chunks while more than one chunk is buffered, so the last
  // chunk always has bytes (unless the whole file is empty).
  absl::Status Flush();
  absl::Status Send(std::string_view bytes, bool last);

  const common::v1::ExportFormat format_;
  const std::string filename_;
  const Sink sink_;
  const size_t chunk_bytes_;
  std::string buffer_;
  int64_t event_count_ = 0;
  bool sent_first_ = false;
};

}  // namespace trainyard::metrics
