// Copyright 2026 Trainyard authors.
//
// JobStateStore (snapshots, stage history) and JobStates (the in-memory
// state views read: snapshot + replay of the events after it), on a real
// RocksDB.
#include "services/metrics/storage/job_state_store.h"

#include <algorithm>
#include <limits>

#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/metrics/ingest/ingest_fixture.h"
#include "services/metrics/storage/job_states.h"

namespace trainyard::metrics {
namespace {

using ::trainyard::testing::StatusIs;

class JobStateStoreTest : public ::testing::Test, public IngestFixture {
 protected:
  void Write(const std::function<void(storage::WriteBatch&)>& stage) {
    storage::WriteBatch batch;
    stage(batch);
    ASSERT_OK(db_->Write(batch));
  }
  common::v1::SubstatusEntry Entry(uint64_t job_seq, std::string text) {
    common::v1::SubstatusEntry e;
    e.set_job_seq(job_seq);
    e.set_substatus(std::move(text));
    return e;
  }
  // Stores METRICS events first..last of `job` in one call of the write
  // path.
  void IngestMetrics(int first, int last, const std::string& job = "j") {
    std::vector<v1::IngestEvent> events;
    for (int i = first; i <= last; ++i) {
      v1::IngestEvent& e = events.emplace_back();
      e.set_job_id(job);
      e.set_event_id(absl::StrCat("evt_1_", i));
      e.set_type(common::v1::EVENT_TYPE_METRICS);
      e.set_attempt(1);
      e.set_attempt_seq(i);
      *e.mutable_occurred_time() = ToProto(clock_.Now());
      e.mutable_metrics()->set_step(i * 10);
      e.mutable_metrics()->set_train_loss(1.0 / i);
    }
    ASSERT_OK(ingestor_->Ingest(std::move(events)).status());
  }
  // The container of `job` reports finalization at 100%: it is done.
  void Finish(const std::string& job) {
    std::vector<v1::IngestEvent> events(1);
    v1::IngestEvent& e = events[0];
    e.set_job_id(job);
    e.set_event_id("done");
    e.set_type(common::v1::EVENT_TYPE_STATUS);
    e.set_attempt(1);
    e.set_attempt_seq(1000);
    *e.mutable_occurred_time() = ToProto(clock_.Now());
    e.mutable_status()->set_stage(common::v1::STAGE_FINALIZATION);
    e.mutable_status()->set_substatus("Cleaning up temporary files...");
    e.mutable_status()->set_stage_progress(100);
    ASSERT_OK(ingestor_->Ingest(std::move(events)).status());
  }
  std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
};

TEST_F(JobStateStoreTest, R_DASH_01_SnapshotsRoundTripAndListTheirJobs) {
  EXPECT_THAT(states_->LoadSnapshot("j"),
              StatusIs(absl::StatusCode::kNotFound));
  internal::JobState state = NewJobState("j");
  state.set_last_job_seq(7);
  Write([&](auto& batch) { states_->StageSnapshot(state, batch); });
  Write([&](auto& batch) { states_->StageSnapshot(NewJobState("k"), batch); });
  ASSERT_OK_AND_ASSIGN(internal::JobState loaded, states_->LoadSnapshot("j"));
  EXPECT_EQ(loaded.SerializeAsString(), state.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> ids, states_->ListJobIds());
  EXPECT_EQ(ids, (std::vector<std::string>{"j", "k"}));
  Write([&](auto& batch) { states_->DeleteJob("j", batch); });
  EXPECT_THAT(states_->LoadSnapshot("j"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(JobStateStoreTest, R_STAGE_04_HistoryPerStageOldestFirstAndBounded) {
  Write([&](auto& batch) {
    states_->StageHistory("j", common::v1::STAGE_TRAINING, Entry(5, "b"),
                          batch);
    states_->StageHistory("j", common::v1::STAGE_TRAINING, Entry(2, "a"),
                          batch);
    states_->StageHistory("j", common::v1::STAGE_PREPROCESSING, Entry(1, "p"),
                          batch);
    states_->StageHistory("other", common::v1::STAGE_TRAINING, Entry(1, "x"),
                          batch);
  });
  common::v1::JobStages stages = NewJobState("j").stages();
  ASSERT_OK(states_->FillHistory(&stages));
  ASSERT_EQ(stages.stages(0).history_size(), 1);  // preprocessing
  EXPECT_EQ(stages.stages(0).history(0).substatus(), "p");
  ASSERT_EQ(stages.stages(2).history_size(), 2);  // training, by job_seq
  EXPECT_EQ(stages.stages(2).history(0).substatus(), "a");
  EXPECT_EQ(stages.stages(2).history(1).substatus(), "b");
  EXPECT_EQ(stages.stages(3).history_size(), 0);

  Write([&](auto& batch) {
    for (int i = 10; i < 10 + JobStateStore::kMaxHistoryPerStage + 5; ++i) {
      states_->StageHistory("j", common::v1::STAGE_FINALIZATION,
                            Entry(i, absl::StrCat(i)), batch);
    }
  });
  stages = NewJobState("j").stages();
  ASSERT_OK(states_->FillHistory(&stages));
  const auto& history = stages.stages(3).history();
  ASSERT_EQ(history.size(), JobStateStore::kMaxHistoryPerStage);
  EXPECT_EQ(history.begin()->job_seq(), 15u);  // the last ones kept
  EXPECT_EQ(history.rbegin()->job_seq(),
            10u + JobStateStore::kMaxHistoryPerStage + 4);
}

TEST_F(JobStateStoreTest, R_DASH_01_JobStatesAnswerOnlyJobsWithEvents) {
  EXPECT_THAT(jobs_->State("j"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(jobs_->GetHead("j"), StatusIs(absl::StatusCode::kNotFound));
  IngestMetrics(1, 3);
  ASSERT_OK_AND_ASSIGN(JobStates::Head head, jobs_->GetHead("j"));
  EXPECT_EQ(head.last_job_seq, 3u);
  ASSERT_OK_AND_ASSIGN(internal::JobState state, jobs_->State("j"));
  EXPECT_EQ(state.progress().step(), 30);
}

// After a restart the state is the snapshot (written every kSnapshotEvery
// events) plus the events after it, folded again: the same state.
TEST_F(JobStateStoreTest,
       R_X_02_RestartRebuildsTheSameStateFromSnapshotAndLog) {
  const int n = static_cast<int>(Ingestor::kSnapshotEvery) + 5;
  IngestMetrics(1, n - 4);  // crosses a snapshot boundary
  IngestMetrics(n - 3, n);  // does not
  ASSERT_OK_AND_ASSIGN(internal::JobState live, jobs_->State("j"));
  ASSERT_OK_AND_ASSIGN(internal::JobState snapshot, states_->LoadSnapshot("j"));
  EXPECT_LT(snapshot.last_job_seq(), static_cast<uint64_t>(n));
  JobStates restarted(*events_, *states_, TrackerOptions{});
  ASSERT_OK_AND_ASSIGN(internal::JobState reloaded, restarted.State("j"));
  EXPECT_EQ(reloaded.SerializeAsString(), live.SerializeAsString());
  EXPECT_EQ(reloaded.last_job_seq(), static_cast<uint64_t>(n));
}

// R-X-07 after a restart: the stall check walks the stall watch (the jobs
// that may stall, kept by the write path) without loading every job.
TEST_F(JobStateStoreTest, R_X_07_StallWatchSurvivesRestartWithoutLoadingJobs) {
  ASSERT_OK(jobs_->LoadWatch());  // start-up: marks the new watch complete
  IngestMetrics(1, 3, "running");
  IngestMetrics(1, 3, "done");
  Finish("done");
  EXPECT_EQ(jobs_->Watched(), std::vector<std::string>{"running"});
  // A job leaving the watch leaves memory too (it reloads when read).
  EXPECT_EQ(jobs_->cache_stats().entries, 1u);
  EXPECT_EQ(series_->loaded_jobs(), 1u);
  ASSERT_OK_AND_ASSIGN(internal::JobState done, jobs_->State("done"));
  EXPECT_EQ(done.last_job_seq(), 4u);
  EXPECT_THAT(states_->ListWatched(),
              ::trainyard::testing::IsOkAndHolds(
                  std::optional<std::vector<std::string>>({"running"})));

  BuildStores(size_t{64} << 20);  // a restart
  ASSERT_OK(jobs_->LoadWatch());
  EXPECT_EQ(jobs_->Watched(), std::vector<std::string>{"running"});
  EXPECT_EQ(jobs_->cache_stats().entries, 0u);  // no state loaded

  ASSERT_OK(ingestor_->DeleteJob("running").status());
  EXPECT_TRUE(jobs_->Watched().empty());
  BuildStores(size_t{64} << 20);
  ASSERT_OK(jobs_->LoadWatch());
  EXPECT_TRUE(jobs_->Watched().empty());
}

// A data dir written before the stall watch existed gets it built once,
// from every job's state.
TEST_F(JobStateStoreTest, R_X_07_StallWatchIsBuiltForOlderDataDirs) {
  internal::JobState running = NewJobState("running");
  running.set_last_job_seq(1);
  internal::JobState over = NewJobState("over");
  over.set_last_job_seq(1);
  over.mutable_progress()->set_job_state(common::v1::JOB_STATE_COMPLETED);
  Write([&](auto& batch) {
    states_->StageSnapshot(running, batch);
    states_->StageSnapshot(over, batch);
  });
  EXPECT_THAT(states_->ListWatched(),
              ::trainyard::testing::IsOkAndHolds(std::nullopt));
  ASSERT_OK(jobs_->LoadWatch());
  EXPECT_EQ(jobs_->Watched(), std::vector<std::string>{"running"});
  EXPECT_THAT(states_->ListWatched(),
              ::trainyard::testing::IsOkAndHolds(
                  std::optional<std::vector<std::string>>({"running"})));
}

// Memory bounded by a budget, not by history: with small caches every store
// drops least recently used jobs and reloads them, answering the same.
TEST_F(JobStateStoreTest, R_X_01_JobCachesStayWithinBudgetAndReloadJobs) {
  constexpr size_t kBudget = 32 << 10;
  constexpr int kJobs = 200;
  BuildStores(kBudget);
  for (int round = 0; round < 3; ++round) {
    for (int j = 0; j < kJobs; ++j) {
      IngestMetrics(round * 2 + 1, round * 2 + 2, absl::StrCat("job-", j));
    }
  }
  EXPECT_LE(jobs_->cache_stats().bytes, kBudget);
  EXPECT_GT(jobs_->cache_stats().evictions, 0u);
  EXPECT_LT(series_->loaded_jobs(), static_cast<size_t>(kJobs));
  for (int j = 0; j < kJobs; ++j) {
    const std::string job = absl::StrCat("job-", j);
    ASSERT_OK_AND_ASSIGN(internal::JobState state, jobs_->State(job));
    EXPECT_EQ(state.last_job_seq(), 6u) << job;
    EXPECT_EQ(state.progress().step(), 60) << job;
    ASSERT_OK_AND_ASSIGN(std::vector<SeriesPoint> points,
                         series_->ReadSeries(job, "train_loss"));
    EXPECT_EQ(points.size(), 6u) << job;
    ASSERT_OK_AND_ASSIGN(
        std::vector<v1::Event> events,
        events_->ReadLatest(job, std::numeric_limits<uint64_t>::max(), {}, 10));
    EXPECT_EQ(events.size(), 6u) << job;
  }
  EXPECT_LE(jobs_->cache_stats().bytes, kBudget);
  EXPECT_LE(events_->GetIndexStats().bytes, kBudget);
  EXPECT_LT(series_->loaded_jobs(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace trainyard::metrics
