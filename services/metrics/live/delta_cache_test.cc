// Copyright 2026 Trainyard authors.
#include "services/metrics/live/delta_cache.h"

#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

std::shared_ptr<const SharedDelta> DeltaTo(uint64_t job_seq) {
  auto d = std::make_shared<SharedDelta>();
  d->delta.set_job_seq(job_seq);
  return d;
}

TEST(DeltaCacheTest, FindsByJobOptionsAndStartingSeq) {
  DeltaCache cache;
  cache.Put("j", "k", 5, DeltaTo(9));
  ASSERT_NE(cache.Find("j", "k", 5), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 5)->delta.job_seq(), 9u);
  EXPECT_EQ(cache.Find("j", "k", 6), nullptr);
  EXPECT_EQ(cache.Find("j", "other", 5), nullptr);
  EXPECT_EQ(cache.Find("j2", "k", 5), nullptr);
  // Length-prefixed keys: ("j1", 5) and ("j", 15) never collide.
  cache.Put("j1", "k", 5, DeltaTo(7));
  EXPECT_EQ(cache.Find("j", "k", 15), nullptr);
  // The first of two concurrent builds stays.
  cache.Put("j", "k", 5, DeltaTo(11));
  EXPECT_EQ(cache.Find("j", "k", 5)->delta.job_seq(), 9u);
}

TEST(DeltaCacheTest, EvictsLeastRecentlyUsedAndForgetsPurgedJobs) {
  DeltaCache cache(2);
  cache.Put("j", "k", 1, DeltaTo(2));
  cache.Put("j", "k", 2, DeltaTo(3));
  ASSERT_NE(cache.Find("j", "k", 1), nullptr);  // now the most recent
  cache.Put("j", "k", 3, DeltaTo(4));           // evicts seq 2
  EXPECT_NE(cache.Find("j", "k", 1), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 2), nullptr);
  EXPECT_NE(cache.Find("j", "k", 3), nullptr);
  cache.Forget("j");
  EXPECT_EQ(cache.Find("j", "k", 1), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 3), nullptr);
}

TEST(DeltaCacheTest, OptionsKeyTellsApartWhatShapesADelta) {
  v1::SubscribeJobRequest plain;
  v1::SubscribeJobRequest defaults_spelled_out;
  defaults_spelled_out.mutable_curve()->add_series("train_loss");
  defaults_spelled_out.mutable_curve()->add_series("val_loss");
  defaults_spelled_out.mutable_curve()->set_max_points(50);  // not a shape
  EXPECT_EQ(DeltaOptionsKey(plain), DeltaOptionsKey(defaults_spelled_out));
  v1::SubscribeJobRequest events = plain;
  events.set_include_events(true);
  EXPECT_NE(DeltaOptionsKey(plain), DeltaOptionsKey(events));
  v1::SubscribeJobRequest warnings = events;
  warnings.mutable_event_query()->add_types(common::v1::EVENT_TYPE_WARNING);
  EXPECT_NE(DeltaOptionsKey(events), DeltaOptionsKey(warnings));
  v1::SubscribeJobRequest lr = plain;
  lr.mutable_curve()->add_series("learning_rate");
  EXPECT_NE(DeltaOptionsKey(plain), DeltaOptionsKey(lr));
}

}  // namespace
}  // namespace trainyard::metrics
