// Copyright 2026 Trainyard authors.
//
// EventStore over a real RocksDB: storing, dedupe, restart, and ListEvents
// (R-EVT-01, R-EVT-02, R-EVT-03).
#include "services/metrics/events/event_store.h"

#include <atomic>
#include <set>
#include <thread>

#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/metrics/events/event_store_test_util.h"

namespace trainyard::metrics {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using metrics::v1::ListEventsRequest;
using metrics::v1::ListEventsResponse;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::trainyard::testing::StatusIs;
using namespace ::trainyard::metrics::testing;  // NOLINT

std::vector<uint64_t> Seqs(const ListEventsResponse& r) {
  std::vector<uint64_t> seqs;
  for (const auto& m : r.events()) seqs.push_back(m.event().job_seq());
  return seqs;
}

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {  // inclusive
  std::vector<uint64_t> v;
  if (from <= to) {
    for (uint64_t s = from; s <= to; ++s) v.push_back(s);
  } else {
    for (uint64_t s = from; s >= to; --s) v.push_back(s);
  }
  return v;
}

ListEventsRequest Request(std::string_view job, int32_t page_size = 100) {
  ListEventsRequest r;
  r.set_job_id(std::string(job));
  r.set_page_size(page_size);
  return r;
}

common::EventType Mix(uint64_t seq) {
  switch (seq % 10) {
    case 0:
      return common::EVENT_TYPE_CHECKPOINT;
    case 3:
      return common::EVENT_TYPE_STATUS;
    case 7:
      return common::EVENT_TYPE_WARNING;
    default:
      return common::EVENT_TYPE_METRICS;
  }
}

std::string MixMessage(uint64_t seq) {
  return absl::StrCat("Step ", seq, seq % 10 == 0 ? " checkpoint" : "");
}

class EventStoreTest : public EventStoreFixture {
 protected:
  // The typed query grpc/ builds from `r` (ParseListEvents, where requests
  // are validated and page tokens decoded; tested in grpc/requests_test.cc):
  // its job, selection and page size, continuing after `after`.
  static EventListQuery Query(const ListEventsRequest& r,
                              std::optional<EventCursor> after = {}) {
    absl::StatusOr<EventSelector> selector =
        CompileEventQuery(r.query(), r.filter(), r.order_by());
    EXPECT_TRUE(selector.ok()) << selector.status();
    return {.job_id = r.job_id(),
            .selector = selector.ok() ? *selector : EventSelector(),
            .page_size = r.page_size(),
            .after = after};
  }

  absl::StatusOr<EventPage> Page(const ListEventsRequest& r,
                                 std::optional<EventCursor> after = {}) {
    return store_->List(Query(r, after));
  }

  // The first page's response.
  absl::StatusOr<ListEventsResponse> List(const ListEventsRequest& r) {
    absl::StatusOr<EventPage> page = Page(r);
    if (!page.ok()) return page.status();
    return std::move(page->response);
  }
};

// ---- Storing, dedupe, get ------------------------------------------------

TEST_F(EventStoreTest, R_EVT_01_GetReturnsStoredEventWithRawJsonVerbatim) {
  Event e = MakeEvent("job-a", 1, common::EVENT_TYPE_METRICS, "Step 1/10");
  e.set_raw_json("{ \"type\":\"metrics\",  \"unknownField\" : {\"x\": 1e3} }");
  e.mutable_metrics()->set_step(1);
  Ingest(e);
  ASSERT_OK_AND_ASSIGN(Event got, store_->GetEvent("job-a", 1));
  EXPECT_TRUE(MessageDifferencer::Equals(got, e)) << got.DebugString();
  EXPECT_EQ(got.raw_json(), e.raw_json());
}

TEST_F(EventStoreTest, R_X_01_FindByEventIdDedupesPerJob) {
  EXPECT_THAT(store_->FindByEventId("job-a", "evt_1_1"),
              ::trainyard::testing::IsOkAndHolds(std::nullopt));
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "hello"));
  Ingest(MakeEvent("job-a", 2, common::EVENT_TYPE_INFO, "again"));
  EXPECT_THAT(store_->FindByEventId("job-a", "evt_1_2"),
              ::trainyard::testing::IsOkAndHolds(std::optional<uint64_t>(2)));
  // The key is (job_id, event_id): another job's event ids are independent.
  EXPECT_THAT(store_->FindByEventId("job-b", "evt_1_1"),
              ::trainyard::testing::IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->LatestJobSeq("job-a"),
              ::trainyard::testing::IsOkAndHolds(2u));
  EXPECT_THAT(store_->LatestJobSeq("job-b"),
              ::trainyard::testing::IsOkAndHolds(0u));
}

TEST_F(EventStoreTest, R_X_01_FindStagedSeesEventsOfTheSameBatch) {
  storage::WriteBatch batch;
  EventUpdate update;
  store_->Stage(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "x"), batch,
                &update);
  EXPECT_EQ(update.FindStaged("job-a", "evt_1_1"), 1u);
  EXPECT_EQ(update.FindStaged("job-a", "evt_1_2"), std::nullopt);
  EXPECT_EQ(update.FindStaged("job-b", "evt_1_1"), std::nullopt);
}

TEST_F(EventStoreTest, R_EVT_01_GetEventErrors) {
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "x"));
  absl::StatusOr<Event> no_job = store_->GetEvent("job-zz", 1);
  EXPECT_THAT(no_job, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(no_job.status()), "JOB_NOT_FOUND");
  absl::StatusOr<Event> no_seq = store_->GetEvent("job-a", 2);
  EXPECT_THAT(no_seq, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(no_seq.status()), "EVENT_NOT_FOUND");
}

TEST_F(EventStoreTest, R_EVT_01_SurvivesCloseAndReopen) {
  IngestMany("job-a", 30, Mix, MixMessage);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse before, List(Request("job-a")));
  Reopen();  // new Db, new EventStore: the index is rebuilt lazily
  EXPECT_EQ(store_->GetIndexStats().jobs, 0u);
  EXPECT_THAT(store_->FindByEventId("job-a", "evt_1_30"),
              ::trainyard::testing::IsOkAndHolds(std::optional<uint64_t>(30)));
  EXPECT_THAT(store_->LatestJobSeq("job-a"),
              ::trainyard::testing::IsOkAndHolds(30u));
  ASSERT_OK_AND_ASSIGN(ListEventsResponse after, List(Request("job-a")));
  EXPECT_EQ(store_->GetIndexStats().jobs, 1u);
  EXPECT_EQ(Seqs(after), Range(1, 30));
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
  // Ingest continues after the restart, and the rebuilt index follows it.
  IngestMany("job-a", 5, Mix, MixMessage);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse more, List(Request("job-a")));
  EXPECT_EQ(Seqs(more), Range(1, 35));
}

// ---- Listing
// ------------------------------------------------------------------

TEST_F(EventStoreTest, R_EVT_01_ListsAllEventsOldestFirstByDefault) {
  IngestMany("job-a", 12, Mix, MixMessage);
  IngestMany("job-b", 3, Mix, MixMessage);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(Request("job-a")));
  EXPECT_EQ(Seqs(r), Range(1, 12));
  EXPECT_EQ(r.total_size(), 12);
  EXPECT_FALSE(r.total_size_capped());
  EXPECT_EQ(r.match_count(), 0);
  EXPECT_EQ(r.latest_job_seq(), 12u);
  ASSERT_OK_AND_ASSIGN(EventPage only, Page(Request("job-a")));
  EXPECT_EQ(only.next, std::nullopt);
  for (const auto& m : r.events()) {
    EXPECT_EQ(m.event().job_id(), "job-a");
    EXPECT_FALSE(m.event().raw_json().empty());  // full JSON payload
    EXPECT_THAT(m.matches(), IsEmpty());
  }
  ListEventsRequest desc = Request("job-a");
  desc.set_order_by("job_seq desc");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse d, List(desc));
  EXPECT_EQ(Seqs(d), Range(12, 1));
  for (std::string order : {"job_seq", "job_seq asc", "  job_seq   asc "}) {
    ListEventsRequest asc = Request("job-a");
    asc.set_order_by(order);
    ASSERT_OK_AND_ASSIGN(ListEventsResponse a, List(asc));
    EXPECT_EQ(Seqs(a), Range(1, 12)) << order;
  }
}

TEST_F(EventStoreTest, R_EVT_01_UnknownJobIsNotFound) {
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO, "x"));
  absl::StatusOr<ListEventsResponse> r = List(Request("job-nope"));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorReason(r.status()), "JOB_NOT_FOUND");
  // A job whose events are filtered out is not "not found".
  ListEventsRequest none = Request("job-a");
  none.mutable_query()->add_types(common::EVENT_TYPE_ERROR);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse empty, List(none));
  EXPECT_THAT(Seqs(empty), IsEmpty());
  EXPECT_EQ(empty.total_size(), 0);
}

TEST_F(EventStoreTest, R_EVT_02_FiltersBySeveralTypesAtOnce) {
  IngestMany("job-a", 40, Mix, MixMessage);
  ListEventsRequest req = Request("job-a");
  req.mutable_query()->add_types(common::EVENT_TYPE_WARNING);
  req.mutable_query()->add_types(common::EVENT_TYPE_CHECKPOINT);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
  EXPECT_EQ(Seqs(r), (std::vector<uint64_t>{7, 10, 17, 20, 27, 30, 37, 40}));
  EXPECT_EQ(r.total_size(), 8);
  req.mutable_query()->add_types(common::EVENT_TYPE_STATUS);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r3, List(req));
  EXPECT_EQ(r3.total_size(), 12);
}

TEST_F(EventStoreTest, R_EVT_02_KeywordMatchCountAndCodePointPositions) {
  Ingest(MakeEvent("job-a", 1, common::EVENT_TYPE_INFO,
                   "Saving… ✓ 🚀 Checkpoint saved, CHECKPOINT ok"));
  Ingest(MakeEvent("job-a", 2, common::EVENT_TYPE_METRICS, "Step 2 loss 0.3"));
  Ingest(MakeEvent("job-a", 3, common::EVENT_TYPE_CHECKPOINT,
                   "Checkpoint saved at step 800 ✓"));
  Ingest(MakeEvent("job-a", 4, common::EVENT_TYPE_WARNING,
                   "ΣΦΆΛΜΑ: checkpoint σφάλμα"));
  ListEventsRequest req = Request("job-a");
  req.mutable_query()->set_keyword("cHeCkPoInT");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
  EXPECT_EQ(Seqs(r), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(r.total_size(), 3);
  EXPECT_EQ(r.match_count(), 4);
  EXPECT_FALSE(r.match_count_capped());
  ASSERT_EQ(r.events(0).matches_size(), 2);
  EXPECT_EQ(r.events(0).matches(0).start(), 12);
  EXPECT_EQ(r.events(0).matches(0).length(), 10);
  EXPECT_EQ(r.events(0).matches(1).start(), 30);
  ASSERT_EQ(r.events(1).matches_size(), 1);
  EXPECT_EQ(r.events(1).matches(0).start(), 0);
  ASSERT_EQ(r.events(2).matches_size(), 1);
  EXPECT_EQ(r.events(2).matches(0).start(), 8);

  // Non-ASCII keywords fold too (Unicode simple case folding).
  req.mutable_query()->set_keyword("σφάλμα");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse greek, List(req));
  EXPECT_EQ(Seqs(greek), (std::vector<uint64_t>{4}));
  EXPECT_EQ(greek.match_count(), 2);
  EXPECT_EQ(greek.events(0).matches(0).start(), 0);
  EXPECT_EQ(greek.events(0).matches(1).start(), 19);
  req.mutable_query()->set_keyword("✓");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse check, List(req));
  EXPECT_EQ(Seqs(check), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(check.events(1).matches(0).start(), 29);
}

TEST_F(EventStoreTest, R_EVT_02_TimeRangeIsHalfOpenOnOccurredTime) {
  IngestMany("job-a", 20, Mix, MixMessage);  // event n at kBaseSeconds + n
  ListEventsRequest req = Request("job-a");
  auto* range = req.mutable_query()->mutable_time_range();
  *range->mutable_start_time() = Seconds(kBaseSeconds + 5);
  *range->mutable_end_time() = Seconds(kBaseSeconds + 9);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
  EXPECT_EQ(Seqs(r), Range(5, 8));
  range->clear_end_time();
  ASSERT_OK_AND_ASSIGN(ListEventsResponse open_end, List(req));
  EXPECT_EQ(Seqs(open_end), Range(5, 20));
  range->clear_start_time();
  *range->mutable_end_time() = Seconds(kBaseSeconds + 3, 1);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse open_start, List(req));
  EXPECT_EQ(Seqs(open_start), Range(1, 3));
  // Receive time (one second later) is not what the range tests.
  *range->mutable_start_time() = Seconds(kBaseSeconds + 21);
  range->clear_end_time();
  ASSERT_OK_AND_ASSIGN(ListEventsResponse none, List(req));
  EXPECT_THAT(Seqs(none), IsEmpty());
}

class EventStoreFilterTest : public EventStoreTest {
 protected:
  EventStoreFilterTest() {
    // 1..6: attempt 1, container; 3 and 5 are STATUS in TRAINING /
    // PREPROCESSING. 7..9: control-plane lifecycle events. 10..12: attempt 2.
    std::vector<Event> events;
    for (uint64_t seq = 1; seq <= 12; ++seq) {
      Event e = MakeEvent("job-f", seq, common::EVENT_TYPE_METRICS,
                          absl::StrCat("event ", seq));
      if (seq == 3 || seq == 11) {
        e.set_type(common::EVENT_TYPE_STATUS);
        e.mutable_status()->set_stage(common::STAGE_TRAINING);
      }
      if (seq == 5) {
        e.set_type(common::EVENT_TYPE_STATUS);
        e.mutable_status()->set_stage(common::STAGE_PREPROCESSING);
      }
      if (seq >= 7 && seq <= 9) {
        e.set_type(common::EVENT_TYPE_STATUS);
        e.set_source(common::EVENT_SOURCE_CONTROL_PLANE);
        e.set_attempt_seq(0);
        e.mutable_lifecycle()->set_job_state(common::JOB_STATE_TRAINING);
      }
      if (seq >= 10) e.set_attempt(2);
      events.push_back(e);
    }
    Ingest(events);
  }

  std::vector<uint64_t> Filter(std::string_view filter) {
    ListEventsRequest req = Request("job-f");
    req.set_filter(std::string(filter));
    absl::StatusOr<ListEventsResponse> r = List(req);
    EXPECT_TRUE(r.ok()) << filter << ": " << r.status();
    return r.ok() ? Seqs(*r) : std::vector<uint64_t>{};
  }
};

TEST_F(EventStoreFilterTest, R_EVT_02_Source) {
  EXPECT_EQ(Filter("source = CONTROL_PLANE"), Range(7, 9));
  EXPECT_EQ(Filter("source = EVENT_SOURCE_CONTROL_PLANE"), Range(7, 9));
  EXPECT_EQ(Filter("source != CONTROL_PLANE"),
            (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 10, 11, 12}));
}

TEST_F(EventStoreFilterTest, R_EVT_02_AttemptAllOperators) {
  EXPECT_EQ(Filter("attempt = 2"), Range(10, 12));
  EXPECT_EQ(Filter("attempt != 2"), Range(1, 9));
  EXPECT_EQ(Filter("attempt < 2"), Range(1, 9));
  EXPECT_EQ(Filter("attempt <= 1"), Range(1, 9));
  EXPECT_EQ(Filter("attempt > 1"), Range(10, 12));
  EXPECT_EQ(Filter("attempt >= 2"), Range(10, 12));
}

TEST_F(EventStoreFilterTest, R_EVT_02_JobSeqAllOperators) {
  EXPECT_EQ(Filter("job_seq = 4"), (std::vector<uint64_t>{4}));
  EXPECT_EQ(Filter("job_seq != 4 AND job_seq <= 5"),
            (std::vector<uint64_t>{1, 2, 3, 5}));
  EXPECT_EQ(Filter("job_seq < 3"), Range(1, 2));
  EXPECT_EQ(Filter("job_seq > 10"), Range(11, 12));
  EXPECT_EQ(Filter("job_seq >= 10"), Range(10, 12));
}

TEST_F(EventStoreFilterTest, R_EVT_02_StageOnlyOnStatusPayloads) {
  EXPECT_EQ(Filter("stage = TRAINING"), (std::vector<uint64_t>{3, 11}));
  EXPECT_EQ(Filter("stage = STAGE_PREPROCESSING"), (std::vector<uint64_t>{5}));
  // Events without a status payload have no stage: != selects status
  // reports of other stages only.
  EXPECT_EQ(Filter("stage != TRAINING"), (std::vector<uint64_t>{5}));
}

TEST_F(EventStoreFilterTest, R_EVT_02_ReceiveTime) {
  // Event n was received at kBaseSeconds + n + 1 = 03:00:(n+1).
  EXPECT_EQ(Filter("receive_time < \"2025-11-29T03:00:03Z\""), Range(1, 1));
  EXPECT_EQ(Filter("receive_time <= \"2025-11-29T03:00:03Z\""), Range(1, 2));
  EXPECT_EQ(Filter("receive_time > \"2025-11-29T03:00:12Z\""), Range(12, 12));
  EXPECT_EQ(Filter("receive_time >= \"2025-11-29T04:00:12+01:00\""),
            Range(11, 12));
}

TEST_F(EventStoreFilterTest, R_EVT_02_CombinationsAndOr) {
  EXPECT_EQ(Filter("source = CONTAINER AND attempt >= 2"), Range(10, 12));
  EXPECT_EQ(Filter("(attempt = 2 OR attempt = 3) AND stage = TRAINING"),
            (std::vector<uint64_t>{11}));
  EXPECT_EQ(Filter("(job_seq = 1 OR job_seq = 12 OR job_seq = 5)"),
            (std::vector<uint64_t>{1, 5, 12}));
  // Filter AND-ed with types, keyword and time range.
  ListEventsRequest req = Request("job-f");
  req.set_filter("source = CONTAINER");
  req.mutable_query()->add_types(common::EVENT_TYPE_STATUS);
  req.mutable_query()->add_types(common::EVENT_TYPE_METRICS);
  req.mutable_query()->set_keyword("EVENT 1");  // events 1, 10, 11, 12
  *req.mutable_query()->mutable_time_range()->mutable_start_time() =
      Seconds(kBaseSeconds + 2);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
  EXPECT_EQ(Seqs(r), Range(10, 12));
  EXPECT_EQ(r.match_count(), 3);
  req.set_filter("source = CONTAINER AND stage = TRAINING");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r2, List(req));
  EXPECT_EQ(Seqs(r2), (std::vector<uint64_t>{11}));
}

TEST_F(EventStoreTest, R_EVT_03_PageSizeIsTheMostEventsOfAPage) {
  IngestMany("job-a", 130, Mix, MixMessage);
  for (int32_t size : {1, 7, 50, 100}) {
    ASSERT_OK_AND_ASSIGN(EventPage page, Page(Request("job-a", size)));
    EXPECT_EQ(page.response.events_size(), size);
    EXPECT_EQ(page.response.total_size(), 130);
    EXPECT_NE(page.next, std::nullopt);
  }
}

// Pages through a filtered view in both orders while new events (some of
// them matching) arrive between pages: every page is anchored at the first
// page's latest event, so the concatenation is exactly the view at that time.
TEST_F(EventStoreTest, R_EVT_03_PagingHasNoGapOrDuplicateWhileEventsArrive) {
  IngestMany("job-a", 237, Mix, MixMessage);
  for (std::string order : {"job_seq asc", "job_seq desc"}) {
    ListEventsRequest req = Request("job-a", 25);
    req.set_order_by(order);
    req.set_filter("job_seq != 100");
    std::vector<uint64_t> seen;
    int pages = 0;
    uint64_t anchor = 0;
    std::optional<EventCursor> after;
    while (true) {
      ASSERT_OK_AND_ASSIGN(EventPage page, Page(req, after));
      ++pages;
      if (pages == 1) anchor = page.response.latest_job_seq();
      EXPECT_EQ(page.response.latest_job_seq(), anchor);
      EXPECT_EQ(page.response.total_size(), static_cast<int32_t>(anchor - 1))
          << "page " << pages;
      for (uint64_t s : Seqs(page.response)) seen.push_back(s);
      // New events, including matching ones, arrive between pages.
      IngestMany("job-a", 3, Mix, MixMessage);
      if (!page.next) break;
      EXPECT_EQ(page.next->anchor_job_seq, anchor);
      after = page.next;
      // The page size may change between pages.
      req.set_page_size(pages % 2 == 0 ? 25 : 40);
    }
    std::vector<uint64_t> want = Range(1, anchor);
    want.erase(std::find(want.begin(), want.end(), 100));
    if (order == "job_seq desc") std::reverse(want.begin(), want.end());
    EXPECT_EQ(seen, want) << order;
    EXPECT_EQ(std::set<uint64_t>(seen.begin(), seen.end()).size(), seen.size());
  }
  // A fresh first page sees the new events.
  ASSERT_OK_AND_ASSIGN(ListEventsResponse fresh, List(Request("job-a")));
  EXPECT_GT(fresh.latest_job_seq(), 237u);
}

TEST_F(EventStoreTest, R_EVT_03_LastPageHasNoCursor) {
  IngestMany("job-a", 50, Mix, MixMessage);
  ListEventsRequest req = Request("job-a", 25);
  ASSERT_OK_AND_ASSIGN(EventPage p1, Page(req));
  ASSERT_NE(p1.next, std::nullopt);
  ASSERT_OK_AND_ASSIGN(EventPage p2, Page(req, p1.next));
  EXPECT_EQ(Seqs(p2.response), Range(26, 50));
  EXPECT_EQ(p2.next, std::nullopt);
}

TEST_F(EventStoreTest, R_EVT_03_CountsAreCappedAtTheInjectedCap) {
  options_.count_cap = 50;
  Reopen();
  // 120 events, each message with the keyword twice.
  IngestMany("job-a", 120, Mix,
             [](uint64_t seq) { return absl::StrCat("loss ", seq, " LOSS"); });
  ListEventsRequest req = Request("job-a", 10);
  req.set_order_by("job_seq desc");
  req.mutable_query()->set_keyword("loss");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
  EXPECT_EQ(r.total_size(), 50);
  EXPECT_TRUE(r.total_size_capped());
  EXPECT_EQ(r.match_count(), 50);
  EXPECT_TRUE(r.match_count_capped());
  EXPECT_EQ(Seqs(r), Range(120, 111));
  // Exact below the cap: 40 events but 80 matches.
  req.set_filter("job_seq <= 40");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse some, List(req));
  EXPECT_EQ(some.total_size(), 40);
  EXPECT_FALSE(some.total_size_capped());
  EXPECT_EQ(some.match_count(), 50);
  EXPECT_TRUE(some.match_count_capped());
  req.set_filter("job_seq <= 25");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse few, List(req));
  EXPECT_EQ(few.total_size(), 25);
  EXPECT_EQ(few.match_count(), 50);
  EXPECT_FALSE(few.match_count_capped());
  // A later page of a capped view is still right.
  req.clear_filter();
  req.set_page_size(100);
  ASSERT_OK_AND_ASSIGN(EventPage p1, Page(req));
  ASSERT_OK_AND_ASSIGN(EventPage p2, Page(req, p1.next));
  EXPECT_EQ(Seqs(p2.response), Range(20, 1));
  EXPECT_TRUE(p2.response.total_size_capped());
}

// Issue 10 item 10: "page X of Y" needs the exact total of every list that
// has no keyword, however long the log (a 10,000-step run has 11,220 events);
// only keyword searches are capped.
TEST_F(EventStoreTest, R_EVT_03_TotalIsExactWithoutAKeyword) {
  options_.count_cap = 50;
  Reopen();
  IngestMany("job-a", 120, Mix, MixMessage);
  int64_t metrics = 0;
  for (uint64_t seq = 1; seq <= 120; ++seq) {
    metrics += Mix(seq) == common::EVENT_TYPE_METRICS ? 1 : 0;
  }
  for (const char* order : {"job_seq", "job_seq desc"}) {
    SCOPED_TRACE(order);
    ListEventsRequest req = Request("job-a", 10);
    req.set_order_by(order);
    ASSERT_OK_AND_ASSIGN(ListEventsResponse all, List(req));
    EXPECT_EQ(all.total_size(), 120);
    EXPECT_FALSE(all.total_size_capped());
    req.mutable_query()->add_types(common::EVENT_TYPE_METRICS);
    ASSERT_OK_AND_ASSIGN(EventPage typed_page, Page(req));
    const ListEventsResponse& typed = typed_page.response;
    EXPECT_EQ(typed.total_size(), metrics);
    EXPECT_FALSE(typed.total_size_capped());
    req.set_filter("job_seq > 5");  // Facts too: still exact.
    ASSERT_OK_AND_ASSIGN(ListEventsResponse filtered, List(req));
    int64_t after5 = 0;
    for (uint64_t seq = 6; seq <= 120; ++seq) {
      after5 += Mix(seq) == common::EVENT_TYPE_METRICS ? 1 : 0;
    }
    EXPECT_EQ(filtered.total_size(), after5);
    // A later page counts the same.
    req.clear_filter();
    ASSERT_OK_AND_ASSIGN(EventPage page2, Page(req, typed_page.next));
    EXPECT_EQ(page2.response.total_size(), metrics);
  }
}

TEST_F(EventStoreTest, R_EVT_03_TenThousandStepRunCountsExactly) {
  IngestMany("job-a", 11220, Mix, MixMessage, /*batch_size=*/2000);
  ListEventsRequest req = Request("job-a", 50);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse all, List(req));
  EXPECT_EQ(all.total_size(), 11220);
  EXPECT_FALSE(all.total_size_capped());
  // A keyword search is exact far beyond the old 10,000 too.
  req.mutable_query()->set_keyword("step");
  ASSERT_OK_AND_ASSIGN(ListEventsResponse kw, List(req));
  EXPECT_EQ(kw.total_size(), 11220);
  EXPECT_FALSE(kw.total_size_capped());
  EXPECT_EQ(kw.match_count(), 11220);
  EXPECT_FALSE(kw.match_count_capped());
}

// ---- Index maintenance
// ---------------------------------------------------------

// ---- Internal reads ------------------------------------------------------

TEST_F(EventStoreTest, R_X_02_ReadRangeVisitsTheHalfOpenRangeInOrder) {
  IngestMany("job-a", 30, Mix, MixMessage);
  IngestMany("job-ab", 5, Mix, MixMessage);  // a job whose id extends job-a's
  auto read = [&](std::string_view job, uint64_t after, uint64_t until,
                  size_t stop_after = 1000) {
    std::vector<uint64_t> seqs;
    EXPECT_OK(store_->ReadRange(job, after, until, [&](const Event& e) {
      EXPECT_EQ(e.job_id(), job);
      seqs.push_back(e.job_seq());
      return seqs.size() < stop_after;
    }));
    return seqs;
  };
  EXPECT_EQ(read("job-a", 10, 15), Range(11, 15));
  EXPECT_EQ(read("job-a", 25, std::numeric_limits<uint64_t>::max()),
            Range(26, 30));
  EXPECT_EQ(read("job-a", 0, 1000, /*stop_after=*/3), Range(1, 3));
  EXPECT_THAT(read("job-a", 15, 15), IsEmpty());
  EXPECT_THAT(read("job-a", 30, 40), IsEmpty());
  EXPECT_THAT(read("nobody", 0, 10), IsEmpty());
  EXPECT_EQ(read("job-ab", 0, std::numeric_limits<uint64_t>::max()),
            Range(1, 5));
}

TEST_F(EventStoreTest, R_DASH_07_ReadLatestPicksTheNewestOfTheTypes) {
  IngestMany("job-a", 40, Mix, MixMessage);
  auto seqs = [](const std::vector<Event>& events) {
    std::vector<uint64_t> out;
    for (const Event& e : events) out.push_back(e.job_seq());
    return out;
  };
  ASSERT_OK_AND_ASSIGN(std::vector<Event> all,
                       store_->ReadLatest("job-a", 40, {}, 3));
  EXPECT_EQ(seqs(all), Range(38, 40));
  const std::vector<common::EventType> types = {common::EVENT_TYPE_WARNING,
                                                common::EVENT_TYPE_CHECKPOINT};
  ASSERT_OK_AND_ASSIGN(std::vector<Event> some,
                       store_->ReadLatest("job-a", 35, types, 3));
  EXPECT_EQ(seqs(some), (std::vector<uint64_t>{20, 27, 30}));
  ASSERT_OK_AND_ASSIGN(std::vector<Event> none,
                       store_->ReadLatest("nobody", 35, types, 3));
  EXPECT_THAT(none, IsEmpty());
}

TEST_F(EventStoreTest, R_X_01_StageWithoutPublishLeavesQueriesUnchanged) {
  IngestMany("job-a", 3, Mix, MixMessage);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse before, List(Request("job-a")));
  storage::WriteBatch batch;
  EventUpdate update;
  store_->Stage(MakeEvent("job-a", 4, common::EVENT_TYPE_ERROR, "boom"), batch,
                &update);
  // Staged only: nothing changes.
  ASSERT_OK_AND_ASSIGN(ListEventsResponse staged, List(Request("job-a")));
  EXPECT_EQ(staged.SerializeAsString(), before.SerializeAsString());
  // Written but not published: queries still see the old log.
  ASSERT_OK(db_->Write(batch));
  ASSERT_OK_AND_ASSIGN(ListEventsResponse written, List(Request("job-a")));
  EXPECT_EQ(Seqs(written), Range(1, 3));
  store_->Publish(update);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse published, List(Request("job-a")));
  EXPECT_EQ(Seqs(published), Range(1, 4));
  // Publishing twice is harmless.
  store_->Publish(update);
  ASSERT_OK_AND_ASSIGN(ListEventsResponse again, List(Request("job-a")));
  EXPECT_EQ(Seqs(again), Range(1, 4));
}

TEST_F(EventStoreTest, R_EVT_01_MissedPublishDropsTheIndexWhichIsRebuilt) {
  IngestMany("job-a", 3, Mix, MixMessage);
  ASSERT_OK(List(Request("job-a")).status());
  // Event 4 is written but its update is lost; event 5 is published.
  storage::WriteBatch b4;
  EventUpdate lost;
  store_->Stage(MakeEvent("job-a", 4, common::EVENT_TYPE_INFO, "four"), b4,
                &lost);
  ASSERT_OK(db_->Write(b4));
  Ingest(MakeEvent("job-a", 5, common::EVENT_TYPE_INFO, "five"));
  ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(Request("job-a")));
  EXPECT_EQ(Seqs(r), Range(1, 5));
}

TEST_F(EventStoreTest,
       R_EVT_03_IndexMemoryIsBoundedByEvictingLeastRecentlyQueried) {
  options_.index_memory_bytes = 64 << 10;
  Reopen();
  for (std::string job : {"job-1", "job-2", "job-3", "job-4"}) {
    IngestMany(job, 400, Mix, MixMessage);
  }
  for (std::string job : {"job-1", "job-2", "job-3", "job-4"}) {
    ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(Request(job)));
    EXPECT_EQ(r.total_size(), 400);
    EXPECT_LE(store_->GetIndexStats().bytes, options_.index_memory_bytes);
  }
  EventStore::IndexStats stats = store_->GetIndexStats();
  EXPECT_LT(stats.jobs, 4u);
  EXPECT_GE(stats.jobs, 1u);
  // An evicted job's index is rebuilt on demand.
  ASSERT_OK_AND_ASSIGN(ListEventsResponse again, List(Request("job-1")));
  EXPECT_EQ(again.total_size(), 400);
  // The most recently queried index is kept even when alone over budget.
  options_.index_memory_bytes = 1;
  Reopen();
  ASSERT_OK(List(Request("job-2")).status());
  EXPECT_EQ(store_->GetIndexStats().jobs, 1u);
  EXPECT_EQ(store_->GetIndexStats().events, 400u);
}

TEST_F(EventStoreTest, R_LIST_05_DeleteJobPurgesEverythingOfThatJobOnly) {
  IngestMany("job-a", 20, Mix, MixMessage);
  IngestMany("job-b", 5, Mix, MixMessage);
  ASSERT_OK(List(Request("job-a")).status());  // index in memory
  storage::WriteBatch batch;
  EventUpdate update;
  ASSERT_OK_AND_ASSIGN(int64_t deleted,
                       store_->DeleteJob("job-a", batch, &update));
  EXPECT_EQ(deleted, 20);
  ASSERT_OK(db_->Write(batch));
  store_->Publish(update);
  EXPECT_THAT(List(Request("job-a")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetEvent("job-a", 1),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->FindByEventId("job-a", "evt_1_1"),
              ::trainyard::testing::IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store_->LatestJobSeq("job-a"),
              ::trainyard::testing::IsOkAndHolds(0u));
  ASSERT_OK_AND_ASSIGN(ListEventsResponse b, List(Request("job-b")));
  EXPECT_EQ(Seqs(b), Range(1, 5));
  // Idempotent.
  storage::WriteBatch again;
  EventUpdate again_update;
  EXPECT_THAT(store_->DeleteJob("job-a", again, &again_update),
              ::trainyard::testing::IsOkAndHolds(0));
}

// Ingest and queries race: every answer is a consistent view (gapless prefix
// of the log, counts agreeing with the anchor).
TEST_F(EventStoreTest, R_EVT_04_QueriesRunConcurrentlyWithIngest) {
  IngestMany("job-a", 10, Mix, MixMessage);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    IngestMany("job-a", 1500, Mix, MixMessage, /*batch_size=*/1);
    done = true;
  });
  int queries = 0;
  while (!done || queries < 3) {
    ListEventsRequest req = Request("job-a", 100);
    req.set_order_by("job_seq desc");
    absl::StatusOr<ListEventsResponse> r = List(req);
    ASSERT_TRUE(r.ok()) << r.status();
    const uint64_t anchor = r->latest_job_seq();
    EXPECT_EQ(r->total_size(), static_cast<int32_t>(anchor));
    std::vector<uint64_t> want = Range(anchor, anchor >= 100 ? anchor - 99 : 1);
    EXPECT_EQ(Seqs(*r), want);
    ++queries;
  }
  writer.join();
  ASSERT_OK_AND_ASSIGN(ListEventsResponse last, List(Request("job-a")));
  EXPECT_EQ(last.total_size(), 1510);
}

// After a restart the first query builds the job's index from RocksDB while
// ingest goes on: events published during the build are neither lost nor
// doubled.
TEST_F(EventStoreTest, R_EVT_01_IndexBuildRacingWithPublishLosesNothing) {
  IngestMany("job-a", 5000, Mix, MixMessage, /*batch_size=*/1000);
  uint64_t expected = 5000;
  for (int round = 0; round < 4; ++round) {
    Reopen();
    std::thread writer(
        [&] { IngestMany("job-a", 300, Mix, MixMessage, /*batch_size=*/1); });
    ASSERT_OK(List(Request("job-a", 1)).status());  // builds
    writer.join();
    expected += 300;
    ListEventsRequest req = Request("job-a", 100);
    req.set_order_by("job_seq desc");
    ASSERT_OK_AND_ASSIGN(ListEventsResponse r, List(req));
    EXPECT_EQ(r.latest_job_seq(), expected);
    EXPECT_EQ(r.total_size(), static_cast<int32_t>(expected));
    req.set_filter(absl::StrCat("job_seq > ", expected - 1000));
    ASSERT_OK_AND_ASSIGN(ListEventsResponse tail, List(req));
    EXPECT_EQ(tail.total_size(), 1000);
    EXPECT_EQ(Seqs(tail), Range(expected, expected - 99));
    EXPECT_EQ(store_->GetIndexStats().events, expected);
  }
}

}  // namespace
}  // namespace trainyard::metrics
