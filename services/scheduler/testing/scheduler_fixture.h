// Copyright 2026 Trainyard authors.
//
// For tests: a Scheduler on a real RocksDB in a temp dir with a fake suite
// clock, a fake progress source and a recording notification sink; Restart()
// closes and reopens everything on the same directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/notify/notifier.h"
#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/scheduler/app/scheduler.h"

namespace trainyard::scheduler::testing {

// Progress as metrics would report it; thread-safe.
class FakeProgress final : public ProgressSource {
 public:
  void Set(const std::string& job, common::v1::Progress p) {
    absl::MutexLock lock(&mu_);
    progress_[job] = std::move(p);
  }
  void SetUnreachable(bool unreachable) {
    absl::MutexLock lock(&mu_);
    unreachable_ = unreachable;
  }
  absl::flat_hash_map<std::string, common::v1::Progress> Fetch(
      const std::vector<std::string>& job_ids) override {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_map<std::string, common::v1::Progress> out;
    if (unreachable_) return out;
    for (const auto& id : job_ids) {
      auto it = progress_.find(id);
      if (it != progress_.end()) out[id] = it->second;
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, common::v1::Progress> progress_
      ABSL_GUARDED_BY(mu_);
  bool unreachable_ ABSL_GUARDED_BY(mu_) = false;
};

// Keeps every notification it is given.
class RecordingSink final : public notify::Sink {
 public:
  std::string_view name() const override { return "recording"; }
  absl::Status Deliver(const notify::Notification& n) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back(n);
    return absl::OkStatus();
  }
  std::vector<notify::Notification> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  std::vector<notify::Notification> sent_ ABSL_GUARDED_BY(mu_);
};

// A progress report with a measured speed and `remaining` left.
inline common::v1::Progress Steady(
    absl::Duration remaining, absl::Time now,
    common::v1::Stage stage = common::v1::STAGE_TRAINING) {
  common::v1::Progress p;
  p.set_seconds_per_step(1.0);
  *p.mutable_estimated_remaining() = ToProto(remaining);
  *p.mutable_as_of() = ToProto(now);
  p.set_stage(stage);
  return p;
}

class SchedulerFixture {
 public:
  SchedulerFixture() { Open(); }
  ~SchedulerFixture() { Close(); }

  void Open() {
    auto db = storage::Db::Open(storage::testing::TestOptions(
        dir_.Sub("db"), SchedulerStore::ColumnFamilies()));
    ASSERT_OK(db.status());
    db_ = *std::move(db);
    store_ = std::make_unique<SchedulerStore>(*db_);
    auto sink = std::make_unique<RecordingSink>();
    sink_ = sink.get();
    std::vector<std::unique_ptr<notify::Sink>> sinks;
    sinks.push_back(std::move(sink));
    notifier_ = std::make_unique<notify::Notifier>(std::move(sinks));
    scheduler_ = std::make_unique<Scheduler>(*store_, clock_, &progress_,
                                             notifier_.get(), nullptr,
                                             SchedulerOptions{});
    ASSERT_OK(scheduler_->Load());
  }

  void Close() {
    scheduler_.reset();
    notifier_.reset();
    store_.reset();
    if (db_ != nullptr) {
      EXPECT_OK(db_->Close());
    }
    db_.reset();
  }

  // A restart of the process: nothing survives but RocksDB.
  void Restart() {
    Close();
    Open();
  }

  Scheduler& scheduler() { return *scheduler_; }

  std::vector<notify::Notification> Sent() {
    notifier_->Flush();
    return sink_->sent();
  }

  static EnqueueCommand Job(const std::string& id, absl::Time created,
                            absl::Duration duration = absl::Hours(1),
                            int attempt = 1) {
    EnqueueCommand cmd;
    cmd.request_id = id + "/" + std::to_string(attempt) + "/enqueue";
    cmd.entry.set_job_id(id);
    cmd.entry.set_display_name("Job " + id);
    cmd.entry.mutable_created_by()->set_user_id("ana");
    *cmd.entry.mutable_create_time() = ToProto(created);
    *cmd.entry.mutable_estimated_duration() = ToProto(duration);
    cmd.entry.set_attempt(attempt);
    return cmd;
  }

  // Ids of the jobs holding slots, by slot index.
  std::vector<std::string> Running() {
    std::vector<std::string> ids;
    for (const auto& s : scheduler_->Slots()) ids.push_back(s.job_id());
    return ids;
  }

  std::vector<std::string> Queued() {
    std::vector<std::string> ids;
    for (const auto& e : scheduler_->ListEntries(nullptr, 0, 100000).entries) {
      ids.push_back(e.job_id());
    }
    return ids;
  }

  ::trainyard::testing::TempDir dir_;
  FakeClock clock_;
  FakeProgress progress_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<SchedulerStore> store_;
  RecordingSink* sink_ = nullptr;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace trainyard::scheduler::testing
