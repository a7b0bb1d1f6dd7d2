// Copyright 2026 Trainyard authors.
//
// EventFeed (R-X-02): the cross-job order WatchEvents reads, on a real
// RocksDB. Readers never pass the watermark, so a batch still being written
// cannot be skipped.
#include "services/metrics/storage/event_feed.h"

#include <tuple>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "services/metrics/ingest/ingest_fixture.h"

namespace trainyard::metrics {
namespace {

using Entry = std::tuple<uint64_t, std::string, uint64_t>;

class EventFeedTest : public ::testing::Test, public IngestFixture {
 protected:
  uint64_t Write(EventFeed& feed,
                 const std::vector<std::pair<std::string, uint64_t>>& entries,
                 bool ok = true) {
    storage::WriteBatch batch;
    uint64_t first = feed.Stage(entries, batch);
    if (ok) {
      EXPECT_OK(db_->Write(batch));
    }
    feed.Done(first);
    return first;
  }
  std::vector<Entry> Read(const EventFeed& feed, uint64_t after, uint64_t until,
                          int limit = 100) {
    std::vector<Entry> out;
    EXPECT_OK(feed.Read(after, until, limit,
                        [&](uint64_t seq, std::string_view job, uint64_t js) {
                          out.emplace_back(seq, std::string(job), js);
                          return true;
                        }));
    return out;
  }
};

TEST_F(EventFeedTest, R_X_02_EntriesInOrderAcrossJobs) {
  EventFeed& feed = *feed_;
  EXPECT_EQ(Write(feed, {{"a", 1}, {"b", 1}}), 1);
  EXPECT_EQ(Write(feed, {{"a", 2}}), 3);
  EXPECT_EQ(feed.Watermark(), 3);
  EXPECT_EQ(Read(feed, 0, 3),
            (std::vector<Entry>{{1, "a", 1}, {2, "b", 1}, {3, "a", 2}}));
  EXPECT_EQ(Read(feed, 1, 2), (std::vector<Entry>{{2, "b", 1}}));
  EXPECT_EQ(Read(feed, 0, 3, /*limit=*/1), (std::vector<Entry>{{1, "a", 1}}));
  EXPECT_TRUE(Read(feed, 3, 3).empty());
}

TEST_F(EventFeedTest, R_X_02_WatermarkWaitsForTheOldestWriteInFlight) {
  EventFeed& feed = *feed_;
  storage::WriteBatch first_batch, second_batch;
  const uint64_t first = feed.Stage({{"a", 1}}, first_batch);
  const uint64_t second = feed.Stage({{"b", 1}, {"b", 2}}, second_batch);
  EXPECT_EQ(second, first + 1);
  EXPECT_EQ(feed.Watermark(), 0);
  // The later batch lands first: still nothing is settled.
  ASSERT_OK(db_->Write(second_batch));
  feed.Done(second);
  EXPECT_EQ(feed.Watermark(), 0);
  ASSERT_OK(db_->Write(first_batch));
  feed.Done(first);
  EXPECT_EQ(feed.Watermark(), 3);
}

TEST_F(EventFeedTest, R_X_02_FailedWriteLeavesAHoleAndRestartContinues) {
  Write(*feed_, {{"a", 1}});
  Write(*feed_, {{"a", 2}}, /*ok=*/false);  // reserved, never written
  Write(*feed_, {{"a", 3}});
  EXPECT_EQ(feed_->Watermark(), 3);
  EXPECT_EQ(Read(*feed_, 0, 3), (std::vector<Entry>{{1, "a", 1}, {3, "a", 3}}));
  // A restart continues after the last entry on disk.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventFeed> reopened,
                       EventFeed::Open(*db_));
  EXPECT_EQ(reopened->Watermark(), 3);
  EXPECT_EQ(Write(*reopened, {{"b", 1}}), 4);
}

}  // namespace
}  // namespace trainyard::metrics
