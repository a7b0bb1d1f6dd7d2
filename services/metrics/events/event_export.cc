// Copyright 2026 Trainyard authors.
#include "services/metrics/events/event_export.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/strings/csv.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace trainyard::metrics {
namespace {

using ::google::protobuf::util::TimeUtil;
namespace common = ::trainyard::common::v1;

constexpr std::string_view kCsvHeader =
    "job_seq,occurred_time,receive_time,type,source,attempt,attempt_seq,"
    "event_id,message,payload_json\r\n";

// Enum name without its prefix ("EVENT_TYPE_METRICS" -> "METRICS").
std::string_view ShortName(const std::string& full, std::string_view prefix) {
  std::string_view name(full);
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return name;
}

std::string TimeText(const google::protobuf::Timestamp& t, bool has) {
  return has ? TimeUtil::ToString(t) : std::string();
}

void AppendCsvRow(const metrics::v1::Event& e, std::string* out) {
  absl::StrAppend(out, e.job_seq(), ",");
  AppendCsvField(TimeText(e.occurred_time(), e.has_occurred_time()), out);
  out->push_back(',');
  AppendCsvField(TimeText(e.receive_time(), e.has_receive_time()), out);
  out->push_back(',');
  AppendCsvField(ShortName(common::EventType_Name(e.type()), "EVENT_TYPE_"),
                 out);
  out->push_back(',');
  AppendCsvField(
      ShortName(common::EventSource_Name(e.source()), "EVENT_SOURCE_"), out);
  absl::StrAppend(out, ",", e.attempt(), ",", e.attempt_seq(), ",");
  AppendCsvField(e.event_id(), out);
  out->push_back(',');
  AppendCsvField(e.message(), out);
  out->push_back(',');
  AppendCsvField(e.raw_json(), out);
  out->append("\r\n");
}

absl::Status AppendJson(const metrics::v1::Event& e, std::string* out) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  auto status = google::protobuf::util::MessageToJsonString(e, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        "event ", e.job_seq(),
        " cannot be written as JSON: ", std::string(status.message())));
  }
  out->append(json);
  return absl::OkStatus();
}

}  // namespace

std::string ExportFilename(std::string_view job_id, absl::Time now,
                           common::ExportFormat format) {
  std::string_view ext = format == common::EXPORT_FORMAT_JSON    ? "json"
                         : format == common::EXPORT_FORMAT_JSONL ? "jsonl"
                                                                 : "csv";
  return absl::StrCat(
      ToAbsl(job_id), "-events-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()), ".",
      ToAbsl(ext));
}

ExportWriter::ExportWriter(common::ExportFormat format, std::string filename,
                           Sink sink, size_t chunk_bytes)
    : format_(format),
      filename_(std::move(filename)),
      sink_(sink),
      chunk_bytes_(chunk_bytes) {
  if (format_ == common::EXPORT_FORMAT_CSV) buffer_.append(kCsvHeader);
  if (format_ == common::EXPORT_FORMAT_JSON) buffer_.append("[");
}

absl::Status ExportWriter::Add(const metrics::v1::Event& event) {
  switch (format_) {
    case common::EXPORT_FORMAT_JSON:
      buffer_.append(event_count_ == 0 ? "\n" : ",\n");
      if (absl::Status s = AppendJson(event, &buffer_); !s.ok()) return s;
      break;
    case common::EXPORT_FORMAT_JSONL:
      if (absl::Status s = AppendJson(event, &buffer_); !s.ok()) return s;
      buffer_.push_back('\n');
      break;
    default:
      AppendCsvRow(event, &buffer_);
      break;
  }
  ++event_count_;
  return Flush();
}

absl::Status ExportWriter::Finish() {
  if (format_ == common::EXPORT_FORMAT_JSON) {
    buffer_.append(event_count_ == 0 ? "]\n" : "\n]\n");
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  absl::Status s = Send(buffer_, /*last=*/true);
  buffer_.clear();
  return s;
}

absl::Status ExportWriter::Flush() {
  size_t sent = 0;
  absl::Status status;
  while (status.ok() && buffer_.size() - sent > chunk_bytes_) {
    status = Send(std::string_view(buffer_).substr(sent, chunk_bytes_),
                  /*last=*/false);
    sent += chunk_bytes_;
  }
  buffer_.erase(0, sent);
  return status;
}

absl::Status ExportWriter::Send(std::string_view bytes, bool last) {
  metrics::v1::ExportEventsResponse response;
  response.set_chunk(std::string(bytes));
  if (!sent_first_) {
    response.set_filename(filename_);
    response.set_content_type(
        format_ == common::EXPORT_FORMAT_JSON    ? "application/json"
        : format_ == common::EXPORT_FORMAT_JSONL ? "application/x-ndjson"
                                                 : "text/csv");
    sent_first_ = true;
  }
  if (last) response.set_event_count(event_count_);
  return sink_(response);
}

}  // namespace trainyard::metrics
