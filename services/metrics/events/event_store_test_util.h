// Copyright 2026 Trainyard authors.
//
// Test fixture of the event log: a real RocksDB in a temp dir, an EventStore,
// and helpers that ingest events the way the ingest path does
// (Stage, Write, Publish).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/storage/db.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/metrics/events/event_store.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics::testing {

namespace common = ::trainyard::common::v1;
using metrics::v1::Event;

// 2025-11-29T03:00:00Z; event n happened at kBaseSeconds + n and was received
// one second later.
inline constexpr int64_t kBaseSeconds = 1764385200;

inline google::protobuf::Timestamp Seconds(int64_t s, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(s);
  t.set_nanos(nanos);
  return t;
}

// A container event of attempt 1 with job_seq `seq`.
inline Event MakeEvent(std::string_view job_id, uint64_t seq,
                       common::EventType type, std::string_view message) {
  Event e;
  e.set_job_id(std::string(job_id));
  e.set_event_id(absl::StrCat("evt_1_", seq));
  e.set_type(type);
  e.set_source(common::EVENT_SOURCE_CONTAINER);
  e.set_attempt(1);
  e.set_attempt_seq(static_cast<int64_t>(seq));
  e.set_job_seq(seq);
  *e.mutable_occurred_time() =
      Seconds(kBaseSeconds + static_cast<int64_t>(seq));
  *e.mutable_receive_time() =
      Seconds(kBaseSeconds + static_cast<int64_t>(seq) + 1);
  e.set_message(std::string(message));
  e.set_raw_json(absl::StrCat(R"({"type": "x", "seq":)", seq,
                              R"(, "extraField": [1, 2]})"));
  return e;
}

class EventStoreFixture : public ::testing::Test {
 protected:
  EventStoreFixture() { Open(); }
  ~EventStoreFixture() override { Close(); }

  void Open() {
    storage::Options o;
    o.path = dir_.Sub("db");
    o.name = "metrics";
    o.column_families = EventStore::ColumnFamilies();
    o.block_cache_bytes = size_t{16} << 20;
    o.memtable_bytes = size_t{8} << 20;
    o.write_buffer_size = size_t{4} << 20;
    absl::StatusOr<std::unique_ptr<storage::Db>> db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    store_ = std::make_unique<EventStore>(*db_, options_);
  }

  void Close() {
    store_.reset();
    if (db_ != nullptr) {
      EXPECT_OK(db_->Close());
    }
    db_.reset();
  }

  // A new Db and a new EventStore over the same directory (a restart).
  void Reopen() {
    Close();
    Open();
  }

  // Stages, writes and publishes `events` as one batch.
  void Ingest(const std::vector<Event>& events) {
    storage::WriteBatch batch;
    EventUpdate update;
    for (const Event& e : events) store_->Stage(e, batch, &update);
    ASSERT_OK(db_->Write(batch));
    store_->Publish(update);
  }
  void Ingest(const Event& event) { Ingest(std::vector<Event>{event}); }

  // Appends `n` events to `job` after its latest, with messages from
  // `message(seq)` and types from `type(seq)`.
  template <typename TypeFn, typename MessageFn>
  void IngestMany(std::string_view job, int n, TypeFn type, MessageFn message,
                  int batch_size = 500) {
    absl::StatusOr<uint64_t> latest = store_->LatestJobSeq(job);
    ASSERT_TRUE(latest.ok());
    std::vector<Event> batch;
    for (uint64_t seq = *latest + 1; seq <= *latest + n; ++seq) {
      batch.push_back(MakeEvent(job, seq, type(seq), message(seq)));
      if (static_cast<int>(batch.size()) == batch_size) {
        Ingest(batch);
        batch.clear();
      }
    }
    if (!batch.empty()) Ingest(batch);
  }

  ::trainyard::testing::TempDir dir_;
  EventStoreOptions options_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<EventStore> store_;
};

}  // namespace trainyard::metrics::testing
