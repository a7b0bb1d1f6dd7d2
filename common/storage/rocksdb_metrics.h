// -----------------------------------------------------------------------------
// File: common/storage/rocksdb_metrics.h
// -----------------------------------------------------------------------------
//
// Exports a curated set of a Db's RocksDB statistics and properties to
// Prometheus, read at scrape time (nothing is copied in between):
//
//   trainyard_rocksdb_<ticker>_total    counters from rocksdb::Statistics
//                                       (block cache hits/misses, bytes and
//                                       keys read/written, WAL bytes and
//                                       syncs, group-commit leaders/followers,
//                                       stall seconds, flush/compaction bytes)
//   trainyard_rocksdb_write_faults_total{reason}
//                                       writes refused or failed by a full
//                                       or failing disk (Db::write_faults)
//   trainyard_rocksdb_reopens_total      in-place reopens after a WAL fault
//                                       (Db::reopens)
//   trainyard_rocksdb_<property>_bytes  gauges from DB properties and the
//                                       shared memory (live data, SST files,
//                                       memtables, block cache usage)
//
// Every sample carries the label db="<Options::name>" (write_faults also
// reason="STORAGE_FULL"|"STORAGE_ERROR").
// Names are sanitized to [a-zA-Z0-9_] (RocksDB's ticker names contain dots,
// which prometheus-cpp rejects by throwing), counters end in _total, gauges
// are in base units and every family has HELP text, so `promtool check
// metrics` accepts the output.
//
// Register with the process's prometheus::Exposer (which keeps a weak_ptr):
//
//   auto collector = std::make_shared<RocksDbMetricsCollector>(db.get());
//   exposer.RegisterCollectable(collector);

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/storage/db.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace trainyard::storage {

// Returns `name` with every character outside [a-zA-Z0-9_] replaced by '_'
// and a '_' prepended if it would start with a digit (or be empty), making it
// a valid Prometheus metric or label name.
std::string SanitizeMetricName(std::string_view name);

// A prometheus::Collectable over one Db.
//
// Ownership: does not own `db`. The Db object must outlive every call to
// Collect(): unregister the collector (or stop the exposer) before
// destroying the Db. A closed Db is fine: its counters are still exported,
// its property gauges are left out.
//
// Thread-safe: Collect() may run concurrently with any use of the Db.
class RocksDbMetricsCollector : public prometheus::Collectable {
 public:
  explicit RocksDbMetricsCollector(const Db* db);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Db* const db_;
};

}  // namespace trainyard::storage
