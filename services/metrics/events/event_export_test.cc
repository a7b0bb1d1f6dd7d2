// Copyright 2026 Trainyard authors.
//
// ExportEvents (R-EVT-05): formats, chunking, selection shared with
// ListEvents, snapshot consistency.
#include "services/metrics/events/event_export.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_split.h"
#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/events/event_store_test_util.h"

namespace trainyard::metrics {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using metrics::v1::ExportEventsRequest;
using metrics::v1::ExportEventsResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;
using namespace ::trainyard::metrics::testing;  // NOLINT

const absl::Time kNow = absl::FromUnixSeconds(kBaseSeconds + 307);  // 03:05:07

struct Exported {
  std::vector<ExportEventsResponse> chunks;
  std::string file;
};

class EventExportTest : public EventStoreFixture {
 protected:
  // The typed query grpc/ builds from `r` (ParseExportEvents, where requests
  // are validated; tested in grpc/requests_test.cc).
  static EventExportQuery Query(const ExportEventsRequest& r) {
    absl::StatusOr<EventSelector> selector =
        CompileEventQuery(r.query(), r.filter(), r.order_by());
    EXPECT_TRUE(selector.ok()) << selector.status();
    return {.job_id = r.job_id(),
            .selector = selector.ok() ? *selector : EventSelector(),
            .format = r.format()};
  }

  absl::StatusOr<Exported> Export(const ExportEventsRequest& request) {
    Exported out;
    absl::Status status = store_->Export(
        Query(request), kNow, [&out](const ExportEventsResponse& chunk) {
          out.chunks.push_back(chunk);
          out.file += chunk.chunk();
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    return out;
  }

  static ExportEventsRequest Request(std::string_view job,
                                     common::ExportFormat format) {
    ExportEventsRequest r;
    r.set_job_id(std::string(job));
    r.set_format(format);
    return r;
  }

  // Events parsed back from a JSONL file.
  static std::vector<Event> ParseJsonl(const std::string& file) {
    std::vector<Event> events;
    EXPECT_TRUE(file.empty() || file.back() == '\n');
    for (absl::string_view line :
         absl::StrSplit(file, '\n', absl::SkipEmpty())) {
      Event e;
      auto status =
          google::protobuf::util::JsonStringToMessage(std::string(line), &e);
      EXPECT_TRUE(status.ok()) << status.message() << " in " << line;
      events.push_back(e);
    }
    return events;
  }
};

std::vector<uint64_t> SeqsOf(const std::vector<Event>& events) {
  std::vector<uint64_t> seqs;
  for (const Event& e : events) seqs.push_back(e.job_seq());
  return seqs;
}

TEST_F(EventExportTest, R_EVT_05_CsvIsRfc4180ByteExact) {
  std::vector<Event> events = {
      MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "plain message"),
      MakeEvent("job-a", 2, common::EVENT_TYPE_METRICS, "loss 0.3, lr 2e-4"),
      MakeEvent("job-a", 3, common::EVENT_TYPE_WARNING, "said \"hi\""),
      MakeEvent("job-a", 4, common::EVENT_TYPE_ERROR, "line1\nline2\r\nend"),
      MakeEvent("job-a", 5, common::EVENT_TYPE_STATUS, "Saving… ✓ 🚀"),
  };
  events[0].set_raw_json("{\"a\":1}");
  events[1].set_raw_json("plain");
  events[2].set_raw_json("");
  events[3].set_raw_json("{\"m\": \"a,b\"}");
  events[4].set_raw_json("x");
  events[4].mutable_occurred_time()->set_nanos(123000000);
  events[4].set_source(common::EVENT_SOURCE_CONTROL_PLANE);
  events[4].set_attempt(2);
  events[4].set_attempt_seq(0);
  events[4].set_event_id("jc_1");
  Ingest(events);
  ASSERT_OK_AND_ASSIGN(Exported out,
                       Export(Request("job-a", common::EXPORT_FORMAT_CSV)));
  EXPECT_EQ(
      out.file,
      "job_seq,occurred_time,receive_time,type,source,attempt,attempt_seq,"
      "event_id,message,payload_json\r\n"
      "1,2025-11-29T03:00:01Z,2025-11-29T03:00:02Z,INFO,CONTAINER,1,1,evt_1_1,"
      "plain message,\"{\"\"a\"\":1}\"\r\n"
      "2,2025-11-29T03:00:02Z,2025-11-29T03:00:03Z,METRICS,CONTAINER,1,2,"
      "evt_1_2,\"loss 0.3, lr 2e-4\",plain\r\n"
      "3,2025-11-29T03:00:03Z,2025-11-29T03:00:04Z,WARNING,CONTAINER,1,3,"
      "evt_1_3,\"said \"\"hi\"\"\",\r\n"
      "4,2025-11-29T03:00:04Z,2025-11-29T03:00:05Z,ERROR,CONTAINER,1,4,evt_1_4,"
      "\"line1\nline2\r\nend\",\"{\"\"m\"\": \"\"a,b\"\"}\"\r\n"
      "5,2025-11-29T03:00:05.123Z,2025-11-29T03:00:06Z,STATUS,CONTROL_PLANE,2,"
      "0,jc_1,Saving… ✓ 🚀,x\r\n");
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].filename(), "job-a-events-20251129T030507Z.csv");
  EXPECT_EQ(out.chunks[0].content_type(), "text/csv");
  EXPECT_EQ(out.chunks[0].event_count(), 5);
}

// OWASP CSV injection: cells a sender wrote never run as formulas in a
// spreadsheet; JSON and JSONL stay exact.
TEST_F(EventExportTest, R_EVT_05_CsvNeutralizesFormulaCells) {
  std::vector<Event> events = {
      MakeEvent("job-f", 1, common::EVENT_TYPE_INFO,
                "=HYPERLINK(\"http://evil\",\"click\")"),
      MakeEvent("job-f", 2, common::EVENT_TYPE_WARNING, "@SUM(1+1)*cmd|' /C'"),
  };
  events[0].set_event_id("+evt");
  events[0].set_raw_json("-1+2");
  events[1].set_raw_json("{}");
  Ingest(events);
  ASSERT_OK_AND_ASSIGN(Exported out,
                       Export(Request("job-f", common::EXPORT_FORMAT_CSV)));
  EXPECT_EQ(
      out.file,
      "job_seq,occurred_time,receive_time,type,source,attempt,attempt_seq,"
      "event_id,message,payload_json\r\n"
      "1,2025-11-29T03:00:01Z,2025-11-29T03:00:02Z,INFO,CONTAINER,1,1,'+evt,"
      "\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\")\",'-1+2\r\n"
      "2,2025-11-29T03:00:02Z,2025-11-29T03:00:03Z,WARNING,CONTAINER,1,2,"
      "evt_1_2,'@SUM(1+1)*cmd|' /C',{}\r\n");
  ASSERT_OK_AND_ASSIGN(Exported jsonl,
                       Export(Request("job-f", common::EXPORT_FORMAT_JSONL)));
  EXPECT_THAT(jsonl.file, HasSubstr("\"message\":\"=HYPERLINK("));
  EXPECT_THAT(jsonl.file, HasSubstr("\"rawJson\":\"-1+2\""));
}

TEST_F(EventExportTest, R_EVT_05_JsonlLinesParseBackToTheEvents) {
  std::vector<Event> events;
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    Event e = MakeEvent("job-a", seq, common::EVENT_TYPE_METRICS,
                        absl::StrCat("Step ", seq, "\nnext line ✓"));
    e.mutable_metrics()->set_step(static_cast<int64_t>(seq) * 10);
    e.mutable_metrics()->set_train_loss(
        std::numeric_limits<double>::quiet_NaN());
    events.push_back(e);
  }
  events[3].set_type(common::EVENT_TYPE_STATUS);
  events[3].mutable_status()->set_stage(common::STAGE_TRAINING);
  Ingest(events);
  ASSERT_OK_AND_ASSIGN(Exported out,
                       Export(Request("job-a", common::EXPORT_FORMAT_JSONL)));
  EXPECT_EQ(out.chunks[0].filename(), "job-a-events-20251129T030507Z.jsonl");
  EXPECT_EQ(out.chunks[0].content_type(), "application/x-ndjson");
  EXPECT_EQ(out.chunks.back().event_count(), 20);
  std::vector<Event> back = ParseJsonl(out.file);
  ASSERT_EQ(back.size(), events.size());
  for (size_t i = 0; i < back.size(); ++i) {
    Event want = events[i];
    Event got = back[i];
    if (want.has_metrics()) {
      // NaN != NaN: check it apart, compare the rest.
      EXPECT_TRUE(std::isnan(got.metrics().train_loss())) << i;
      want.mutable_metrics()->clear_train_loss();
      got.mutable_metrics()->clear_train_loss();
    }
    EXPECT_TRUE(MessageDifferencer::Equals(want, got))
        << i << ": " << got.DebugString();
    EXPECT_EQ(got.raw_json(), events[i].raw_json());  // raw payload included
  }
  EXPECT_NE(out.file.find("\"rawJson\":"), std::string::npos);
}

TEST_F(EventExportTest, R_EVT_05_JsonIsOneArray) {
  IngestMany(
      "job-a", 3, [](uint64_t) { return common::EVENT_TYPE_INFO; },
      [](uint64_t seq) { return absl::StrCat("info, \"", seq, "\""); });
  ASSERT_OK_AND_ASSIGN(Exported out,
                       Export(Request("job-a", common::EXPORT_FORMAT_JSON)));
  EXPECT_EQ(out.chunks[0].filename(), "job-a-events-20251129T030507Z.json");
  EXPECT_EQ(out.chunks[0].content_type(), "application/json");
  ASSERT_TRUE(out.file.starts_with("[\n{")) << out.file;
  ASSERT_TRUE(out.file.ends_with("}\n]\n")) << out.file;
  // The whole file is one JSON array.
  google::protobuf::ListValue array;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out.file, &array).ok());
  ASSERT_EQ(array.values_size(), 3);
  EXPECT_EQ(
      array.values(1).struct_value().fields().at("message").string_value(),
      "info, \"2\"");
  EXPECT_EQ(array.values(2).struct_value().fields().at("jobSeq").string_value(),
            "3");  // uint64 is a JSON string in protobuf JSON
}

TEST_F(EventExportTest, R_EVT_05_EmptySelections) {
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "x"));
  for (auto [format, file] :
       std::vector<std::pair<common::ExportFormat, std::string>>{
           {common::EXPORT_FORMAT_JSON, "[]\n"},
           {common::EXPORT_FORMAT_JSONL, ""},
           {common::EXPORT_FORMAT_CSV,
            "job_seq,occurred_time,receive_time,type,source,attempt,"
            "attempt_seq,event_id,message,payload_json\r\n"}}) {
    ExportEventsRequest req = Request("job-a", format);
    req.mutable_query()->add_types(common::EVENT_TYPE_ERROR);
    ASSERT_OK_AND_ASSIGN(Exported out, Export(req));
    ASSERT_EQ(out.chunks.size(), 1u);
    EXPECT_EQ(out.file, file);
    EXPECT_FALSE(out.chunks[0].filename().empty());
    EXPECT_EQ(out.chunks[0].event_count(), 0);
  }
}

TEST_F(EventExportTest, R_EVT_05_StreamedInChunksOfAtMost64KiB) {
  const std::string padding(300, 'p');
  IngestMany(
      "job-a", 600, [](uint64_t) { return common::EVENT_TYPE_METRICS; },
      [&](uint64_t seq) { return absl::StrCat("Step ", seq, " ", padding); });
  for (auto format : {common::EXPORT_FORMAT_CSV, common::EXPORT_FORMAT_JSONL,
                      common::EXPORT_FORMAT_JSON}) {
    ASSERT_OK_AND_ASSIGN(Exported out, Export(Request("job-a", format)));
    ASSERT_GT(out.chunks.size(), 3u) << format;
    for (size_t i = 0; i < out.chunks.size(); ++i) {
      const ExportEventsResponse& c = out.chunks[i];
      EXPECT_LE(c.chunk().size(), 65536u);
      EXPECT_FALSE(c.chunk().empty());
      EXPECT_EQ(c.filename().empty(), i != 0);
      EXPECT_EQ(c.content_type().empty(), i != 0);
      EXPECT_EQ(c.event_count(), i + 1 == out.chunks.size() ? 600 : 0);
    }
    if (format == common::EXPORT_FORMAT_JSONL) {
      EXPECT_EQ(SeqsOf(ParseJsonl(out.file)).size(), 600u);
    }
    if (format == common::EXPORT_FORMAT_CSV) {
      std::vector<std::string> rows = absl::StrSplit(out.file, "\r\n");
      EXPECT_EQ(rows.size(), 602u);  // header + 600 + "" after the last CRLF
    }
  }
}

TEST_F(EventExportTest, R_EVT_05_SameSelectionAsList) {
  IngestMany(
      "job-a", 300,
      [](uint64_t seq) {
        return seq % 3 == 0   ? common::EVENT_TYPE_WARNING
               : seq % 5 == 0 ? common::EVENT_TYPE_CHECKPOINT
                              : common::EVENT_TYPE_METRICS;
      },
      [](uint64_t seq) {
        return seq % 2 == 0 ? absl::StrCat("Checkpoint ✓ ", seq)
                            : absl::StrCat("step ", seq);
      });
  metrics::v1::EventQuery query;
  query.add_types(common::EVENT_TYPE_WARNING);
  query.add_types(common::EVENT_TYPE_CHECKPOINT);
  query.set_keyword("CHECKPOINT ✓");
  *query.mutable_time_range()->mutable_start_time() =
      Seconds(kBaseSeconds + 20);
  *query.mutable_time_range()->mutable_end_time() = Seconds(kBaseSeconds + 250);
  const std::string filter = "attempt = 1 AND job_seq != 30";

  for (std::string order : {"", "job_seq desc"}) {
    // ListEvents, all pages.
    ASSERT_OK_AND_ASSIGN(EventSelector selector,
                         CompileEventQuery(query, filter, order));
    EventListQuery list{
        .job_id = "job-a", .selector = selector, .page_size = 7};
    std::vector<uint64_t> listed;
    while (true) {
      ASSERT_OK_AND_ASSIGN(EventPage page, store_->List(list));
      for (const auto& m : page.response.events()) {
        listed.push_back(m.event().job_seq());
      }
      if (!page.next) break;
      list.after = page.next;
    }
    ExportEventsRequest req = Request("job-a", common::EXPORT_FORMAT_JSONL);
    *req.mutable_query() = query;
    req.set_filter(filter);
    req.set_order_by(order);
    ASSERT_OK_AND_ASSIGN(Exported out, Export(req));
    EXPECT_EQ(SeqsOf(ParseJsonl(out.file)), listed) << order;
    EXPECT_GT(listed.size(), 10u);
    EXPECT_EQ(out.chunks.back().event_count(),
              static_cast<int64_t>(listed.size()));
  }
}

TEST_F(EventExportTest, R_EVT_05_IsASnapshotOfTheLogWhenTheCallStarted) {
  const std::string padding(500, 'p');
  IngestMany(
      "job-a", 400, [](uint64_t) { return common::EVENT_TYPE_INFO; },
      [&](uint64_t seq) { return absl::StrCat(seq, padding); });
  int calls = 0;
  std::string file;
  int64_t count = -1;
  ASSERT_OK(store_->Export(
      Query(Request("job-a", common::EXPORT_FORMAT_JSONL)), kNow,
      [&](const ExportEventsResponse& chunk) {
        if (calls++ == 0) {  // events arrive while the export runs
          IngestMany(
              "job-a", 10, [](uint64_t) { return common::EVENT_TYPE_INFO; },
              [](uint64_t) { return std::string("late"); });
        }
        file += chunk.chunk();
        if (chunk.event_count() > 0) count = chunk.event_count();
        return absl::OkStatus();
      }));
  EXPECT_GT(calls, 1);
  EXPECT_EQ(count, 400);
  EXPECT_EQ(SeqsOf(ParseJsonl(file)).back(), 400u);
}

TEST_F(EventExportTest, R_EVT_05_SinkErrorStopsTheExport) {
  const std::string padding(500, 'p');
  IngestMany(
      "job-a", 400, [](uint64_t) { return common::EVENT_TYPE_INFO; },
      [&](uint64_t seq) { return absl::StrCat(seq, padding); });
  int calls = 0;
  absl::Status status = store_->Export(
      Query(Request("job-a", common::EXPORT_FORMAT_CSV)), kNow,
      [&](const ExportEventsResponse&) {
        return ++calls == 2 ? absl::CancelledError("client went away")
                            : absl::OkStatus();
      });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(calls, 2);
}

TEST_F(EventExportTest, R_EVT_05_UnknownJobSendsNothing) {
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "x"));
  int calls = 0;
  absl::Status unknown =
      store_->Export(Query(Request("job-zz", common::EXPORT_FORMAT_CSV)), kNow,
                     [&](const ExportEventsResponse&) {
                       ++calls;
                       return absl::OkStatus();
                     });
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(unknown), "JOB_NOT_FOUND");
  EXPECT_EQ(calls, 0);
}

TEST(ExportWriterTest, R_EVT_05_SmallChunksConcatenateToTheFile) {
  std::vector<ExportEventsResponse> chunks;
  auto sink = [&](const ExportEventsResponse& c) {
    chunks.push_back(c);
    return absl::OkStatus();
  };
  ExportWriter writer(common::EXPORT_FORMAT_CSV, "f.csv", sink, 10);
  Event e = MakeEvent("j", 1, common::EVENT_TYPE_INFO, "hello, world");
  ASSERT_OK(writer.Add(e));
  ASSERT_OK(writer.Finish());
  std::string file;
  for (const auto& c : chunks) {
    EXPECT_LE(c.chunk().size(), 10u);
    EXPECT_FALSE(c.chunk().empty());
    file += c.chunk();
  }
  EXPECT_TRUE(
      file.ends_with(",\"hello, world\",\"{\"\"type\"\": \"\"x\"\", "
                     "\"\"seq\"\":1, \"\"extraField\"\": [1, 2]}\"\r\n"))
      << file;
  EXPECT_EQ(chunks.front().filename(), "f.csv");
  EXPECT_EQ(chunks.back().event_count(), 1);
}

}  // namespace
}  // namespace trainyard::metrics
