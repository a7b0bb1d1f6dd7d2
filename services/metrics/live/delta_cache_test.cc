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

TEST(DeltaCacheTest, R_DASH_07_FindsByJobOptionsAndStartingSeq) {
  DeltaCache cache;
  cache.Put("j", "k", 5, DeltaTo(9), 0);
  ASSERT_NE(cache.Find("j", "k", 5), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 5)->delta.job_seq(), 9u);
  EXPECT_EQ(cache.Find("j", "k", 6), nullptr);
  EXPECT_EQ(cache.Find("j", "other", 5), nullptr);
  EXPECT_EQ(cache.Find("j2", "k", 5), nullptr);
  // Length-prefixed keys: ("j1", 5) and ("j", 15) never collide.
  cache.Put("j1", "k", 5, DeltaTo(7), 0);
  EXPECT_EQ(cache.Find("j", "k", 15), nullptr);
  // The first of two concurrent builds stays.
  cache.Put("j", "k", 5, DeltaTo(11), 0);
  EXPECT_EQ(cache.Find("j", "k", 5)->delta.job_seq(), 9u);
}

TEST(DeltaCacheTest, R_DASH_07_EvictsLeastRecentlyUsedAndForgetsPurgedJobs) {
  DeltaCache cache(2);
  cache.Put("j", "k", 1, DeltaTo(2), 0);
  cache.Put("j", "k", 2, DeltaTo(3), 0);
  ASSERT_NE(cache.Find("j", "k", 1), nullptr);  // now the most recent
  cache.Put("j", "k", 3, DeltaTo(4), 0);        // evicts seq 2
  EXPECT_NE(cache.Find("j", "k", 1), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 2), nullptr);
  EXPECT_NE(cache.Find("j", "k", 3), nullptr);
  cache.Forget("j");
  EXPECT_EQ(cache.Find("j", "k", 1), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 3), nullptr);
}

TEST(DeltaCacheTest, R_DASH_07_KeepsNothingEmptyNorBuiltBeforeAPurge) {
  DeltaCache cache;
  cache.Put("j", "k", 5, DeltaTo(5), 0);  // nothing after seq 5
  EXPECT_EQ(cache.Find("j", "k", 5), nullptr);
  const uint64_t before = cache.Generation("j");
  cache.Forget("j");  // purged while a delta was being built
  cache.Put("j", "k", 1, DeltaTo(3), before);
  EXPECT_EQ(cache.Find("j", "k", 1), nullptr);
  cache.Put("j", "k", 1, DeltaTo(3), cache.Generation("j"));
  EXPECT_NE(cache.Find("j", "k", 1), nullptr);
  EXPECT_EQ(cache.Generation("other"), 0u);
}

TEST(DeltaCacheTest, R_DASH_07_EvictsPastItsByteBudget) {
  DeltaCache cache(100, 1000);
  auto big = std::make_shared<SharedDelta>();
  big->delta.set_job_seq(2);
  big->delta.add_events()->set_message(std::string(600, 'x'));
  cache.Put("j", "k", 1, big, 0);
  ASSERT_NE(cache.Find("j", "k", 1), nullptr);
  auto bigger = std::make_shared<SharedDelta>(*big);
  bigger->delta.set_job_seq(3);
  cache.Put("j", "k", 2, bigger, 0);  // 1,200+ bytes: the older one goes
  EXPECT_EQ(cache.Find("j", "k", 1), nullptr);
  EXPECT_NE(cache.Find("j", "k", 2), nullptr);
}

TEST(DeltaCacheTest, R_DASH_07_OptionsKeyTellsApartWhatShapesADelta) {
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
  v1::SubscribeJobRequest one_odd_name;  // a single series with a comma
  one_odd_name.mutable_curve()->add_series("train_loss,val_loss");
  EXPECT_NE(DeltaOptionsKey(plain), DeltaOptionsKey(one_odd_name));
}

SharedDelta Points(std::initializer_list<std::pair<int64_t, int32_t>> points,
                   uint64_t job_seq) {
  SharedDelta d;
  v1::SeriesAppend* append = d.delta.add_curve_points();
  append->set_series("train_loss");
  for (auto [step, attempt] : points) {
    common::v1::CurvePoint* p = append->add_points();
    p->set_step(step);
    p->set_attempt(attempt);
    ++d.points;
  }
  d.delta.set_job_seq(job_seq);
  d.delta.mutable_progress()->set_step(static_cast<int64_t>(job_seq));
  return d;
}

// R-X-06: a client applying the two deltas in turn and one applying their
// concatenation hold the same curve.
TEST(AppendDeltaTest, R_X_06_ConcatenatesAndAppliesARewindToEarlierPoints) {
  SharedDelta combined = Points({{1, 1}, {2, 1}, {3, 1}}, 3);
  combined.delta.mutable_current_metrics()->set_step(3);
  SharedDelta next = Points({{3, 2}}, 5);
  next.delta.set_rewound_to_step(2);
  v1::SeriesAppend* lr = next.delta.add_curve_points();
  lr->set_series("learning_rate");
  lr->add_points()->set_step(3);
  ++next.points;
  AppendDelta(next, &combined);

  const v1::JobDelta& d = combined.delta;
  EXPECT_EQ(d.job_seq(), 5u);
  EXPECT_EQ(d.rewound_to_step(), 2);
  EXPECT_EQ(d.progress().step(), 5);         // the newer one
  EXPECT_EQ(d.current_metrics().step(), 3);  // kept: next had none
  ASSERT_EQ(d.curve_points_size(), 2);
  ASSERT_EQ(d.curve_points(0).points_size(), 3);  // 1, 2, then 3 of attempt 2
  EXPECT_EQ(d.curve_points(0).points(2).step(), 3);
  EXPECT_EQ(d.curve_points(0).points(2).attempt(), 2);
  EXPECT_EQ(d.curve_points(1).series(), "learning_rate");
  EXPECT_EQ(combined.points, 4);

  SharedDelta later = Points({{4, 2}}, 6);
  later.delta.set_rewound_to_step(3);
  AppendDelta(later, &combined);
  EXPECT_EQ(combined.delta.rewound_to_step(), 2);  // the deeper one holds
  EXPECT_EQ(combined.delta.curve_points(0).points_size(), 4);
}

TEST(SnapshotCacheTest,
     R_DASH_07_KeepsSnapshotsByJobOptionsAndSeqUntilForgotten) {
  SnapshotCache cache;
  v1::JobSnapshot snapshot;
  snapshot.set_job_seq(7);
  const uint64_t generation = cache.Generation("j");
  cache.Put("j", "k", 7, std::make_shared<const v1::JobSnapshot>(snapshot),
            generation);
  ASSERT_NE(cache.Find("j", "k", 7), nullptr);
  EXPECT_EQ(cache.Find("j", "k", 8), nullptr);
  EXPECT_EQ(cache.Find("j", "other", 7), nullptr);
  cache.Forget("j");  // purged
  EXPECT_EQ(cache.Find("j", "k", 7), nullptr);
  // Built from before the purge: not kept.
  cache.Put("j", "k", 7, std::make_shared<const v1::JobSnapshot>(snapshot),
            generation);
  EXPECT_EQ(cache.Find("j", "k", 7), nullptr);
}

TEST(SnapshotCacheTest,
     R_DASH_07_OptionsKeyIgnoresWhatDoesNotShapeTheSnapshot) {
  v1::SubscribeJobRequest a;
  a.set_job_id("j");
  a.mutable_curve()->set_max_points(100);
  v1::SubscribeJobRequest b = a;
  b.set_job_id("other");
  b.set_resume_token("t");
  b.mutable_min_update_interval()->set_seconds(3);
  EXPECT_EQ(SnapshotOptionsKey(a), SnapshotOptionsKey(b));
  b.mutable_curve()->set_max_points(200);
  EXPECT_NE(SnapshotOptionsKey(a), SnapshotOptionsKey(b));
  b = a;
  b.set_recent_events(5);
  EXPECT_NE(SnapshotOptionsKey(a), SnapshotOptionsKey(b));
}

}  // namespace
}  // namespace trainyard::metrics
