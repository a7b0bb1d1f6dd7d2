// Copyright 2026 Trainyard authors.
//
// For tests: the ingest path on a real RocksDB in a temp dir with a fake
// clock and a WAL that fails on demand, without any server around it.
#pragma once

#include <memory>

#include "common/storage/db.h"
#include "common/storage/wal_fault_file_system.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "services/metrics/ingest/ingestor.h"

namespace trainyard::metrics {

class IngestFixture {
 public:
  IngestFixture() {
    storage::Options options;
    options.path = dir_.Sub("db");
    options.name = "metrics";
    options.env = env_.get();
    for (auto cfs :
         {EventStore::ColumnFamilies(), SeriesStore::ColumnFamilies(),
          JobStateStore::ColumnFamilies(), EventFeed::ColumnFamilies()}) {
      options.column_families.insert(options.column_families.end(), cfs.begin(),
                                     cfs.end());
    }
    db_ = *storage::Db::Open(options);
    BuildStores(size_t{64} << 20);
  }

  // (Re)builds the stores and the ingest path over the same RocksDB, as a
  // restart would, each per-job cache held to `cache_bytes`.
  void BuildStores(size_t cache_bytes) {
    ingestor_.reset();
    feed_.reset();
    jobs_.reset();
    series_.reset();
    events_.reset();
    events_ = std::make_unique<EventStore>(
        *db_, EventStoreOptions{.index_memory_bytes = cache_bytes});
    series_ = std::make_unique<SeriesStore>(
        *db_, SeriesStoreOptions{.cache_bytes = cache_bytes});
    states_ = std::make_unique<JobStateStore>(*db_);
    jobs_ = std::make_unique<JobStates>(*events_, *states_, TrackerOptions{},
                                        cache_bytes);
    feed_ = *EventFeed::Open(*db_);
    ingestor_ = std::make_unique<Ingestor>(*db_, *events_, *series_, *states_,
                                           *jobs_, *feed_, clock_, clock_,
                                           TrackerOptions{}, nullptr);
  }

  testing::TempDir dir_;
  // WAL appends fail after wal_->set_fault(storage::testing::WalFault::kFail).
  std::shared_ptr<storage::testing::WalFaultFileSystem> wal_ =
      std::make_shared<storage::testing::WalFaultFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(wal_);
  FakeClock clock_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<EventStore> events_;
  std::unique_ptr<SeriesStore> series_;
  std::unique_ptr<JobStateStore> states_;
  std::unique_ptr<JobStates> jobs_;
  std::unique_ptr<EventFeed> feed_;
  std::unique_ptr<Ingestor> ingestor_;
};

}  // namespace trainyard::metrics
