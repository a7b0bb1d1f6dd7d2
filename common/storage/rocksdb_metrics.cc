#include "common/storage/rocksdb_metrics.h"

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"

namespace trainyard::storage {
namespace {

constexpr std::string_view kPrefix = "trainyard_rocksdb_";

struct TickerMetric {
  rocksdb::Tickers ticker;
  // Metric name without prefix and "_total"; derived from RocksDB's ticker
  // name ("rocksdb.block.cache.hit" -> "block_cache_hit") when empty.
  std::string_view name;
  std::string_view help;
  double scale;  // Multiplies the ticker (to reach base units).
};

// A short list of what explains the behaviour of a control-plane database;
// the other ~200 tickers are in RocksDB's own LOG every 10 minutes.
constexpr TickerMetric kTickers[] = {
    {rocksdb::BLOCK_CACHE_HIT, "", "Block cache hits.", 1},
    {rocksdb::BLOCK_CACHE_MISS, "", "Block cache misses.", 1},
    {rocksdb::BLOOM_FILTER_USEFUL, "",
     "Point lookups that a bloom filter answered without reading a block.", 1},
    {rocksdb::NUMBER_KEYS_WRITTEN, "keys_written",
     "Keys written through Put, Delete and batches.", 1},
    {rocksdb::NUMBER_KEYS_READ, "keys_read", "Keys read through Get.", 1},
    {rocksdb::BYTES_WRITTEN, "",
     "Uncompressed bytes written by Put, Delete and batches.", 1},
    {rocksdb::BYTES_READ, "", "Uncompressed bytes read by Get.", 1},
    {rocksdb::NUMBER_DB_SEEK, "iterator_seeks", "Iterator seeks.", 1},
    {rocksdb::WAL_FILE_BYTES, "", "Bytes appended to the write-ahead log.", 1},
    {rocksdb::WAL_FILE_SYNCED, "wal_syncs",
     "fsyncs of the write-ahead log; with sync_writes, one per write group.",
     1},
    {rocksdb::WRITE_DONE_BY_SELF, "writes_done_by_leader",
     "Writes committed by their own thread as leader of a write group.", 1},
    {rocksdb::WRITE_DONE_BY_OTHER, "writes_done_by_group",
     "Writes committed by another thread's write group (group commit).", 1},
    {rocksdb::STALL_MICROS, "write_stall_seconds",
     "Time writers were delayed or stopped by write stalls, in seconds.", 1e-6},
    {rocksdb::FLUSH_WRITE_BYTES, "", "Bytes written by memtable flushes.", 1},
    {rocksdb::COMPACT_READ_BYTES, "", "Bytes read by compactions.", 1},
    {rocksdb::COMPACT_WRITE_BYTES, "", "Bytes written by compactions.", 1},
};

enum class PropertyScope { kDatabase, kSumOfColumnFamilies };

struct PropertyMetric {
  std::string_view property;
  PropertyScope scope;
  std::string_view name;  // Without prefix.
  std::string_view help;
};

constexpr PropertyMetric kProperties[] = {
    {"rocksdb.estimate-live-data-size", PropertyScope::kSumOfColumnFamilies,
     "estimated_live_data_bytes",
     "Estimated size of live data in SST files, all column families."},
    {"rocksdb.total-sst-files-size", PropertyScope::kSumOfColumnFamilies,
     "sst_files_bytes",
     "Size of all SST files (all versions), all column families."},
    {"rocksdb.cur-size-all-mem-tables", PropertyScope::kSumOfColumnFamilies,
     "memtables_bytes",
     "Size of active and unflushed immutable memtables, all column families."},
    {"rocksdb.estimate-num-keys", PropertyScope::kSumOfColumnFamilies,
     "estimated_keys", "Estimated number of keys, all column families."},
    {"rocksdb.estimate-pending-compaction-bytes",
     PropertyScope::kSumOfColumnFamilies, "pending_compaction_bytes",
     "Estimated bytes compaction must rewrite to settle the LSM tree."},
    {"rocksdb.is-write-stopped", PropertyScope::kDatabase, "write_stopped",
     "1 while writes are stopped by a write stall, else 0."},
};

prometheus::ClientMetric Sample(const std::string& db_name, double value,
                                prometheus::MetricType type) {
  prometheus::ClientMetric metric;
  metric.label.push_back({"db", db_name});
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

prometheus::MetricFamily Family(std::string_view name, std::string_view help,
                                prometheus::MetricType type,
                                const std::string& db_name, double value) {
  prometheus::MetricFamily family;
  family.name = SanitizeMetricName(name);
  family.help = std::string(help);
  family.type = type;
  family.metric.push_back(Sample(db_name, value, type));
  return family;
}

std::string TickerBaseName(const TickerMetric& metric) {
  if (!metric.name.empty()) return std::string(metric.name);
  for (const auto& [ticker, rocksdb_name] : rocksdb::TickersNameMap) {
    if (ticker != metric.ticker) continue;
    std::string_view name = rocksdb_name;
    if (absl::StartsWith(ToAbsl(name), "rocksdb.")) name.remove_prefix(8);
    return std::string(name);
  }
  return absl::StrCat("ticker_", static_cast<int>(metric.ticker));
}

}  // namespace

std::string SanitizeMetricName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) out.push_back('_');
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

RocksDbMetricsCollector::RocksDbMetricsCollector(const Db* db) : db_(db) {}

std::vector<prometheus::MetricFamily> RocksDbMetricsCollector::Collect() const {
  using prometheus::MetricType;
  const std::string& db_name = db_->name();
  std::vector<prometheus::MetricFamily> families;

  const rocksdb::Statistics& statistics = db_->statistics();
  for (const TickerMetric& metric : kTickers) {
    double value =
        static_cast<double>(statistics.getTickerCount(metric.ticker)) *
        metric.scale;
    families.push_back(
        Family(absl::StrCat(ToAbsl(kPrefix), TickerBaseName(metric), "_total"),
               metric.help, MetricType::Counter, db_name, value));
  }

  for (const PropertyMetric& metric : kProperties) {
    absl::StatusOr<uint64_t> value =
        metric.scope == PropertyScope::kDatabase
            ? db_->GetIntProperty(metric.property)
            : db_->GetAggregatedIntProperty(metric.property);
    if (!value.ok()) continue;  // Closed.
    families.push_back(
        Family(absl::StrCat(ToAbsl(kPrefix), ToAbsl(metric.name)), metric.help,
               MetricType::Gauge, db_name, static_cast<double>(*value)));
  }

  const Db::WriteFaults faults = db_->write_faults();
  prometheus::MetricFamily write_faults;
  write_faults.name = absl::StrCat(ToAbsl(kPrefix), "write_faults_total");
  write_faults.help =
      "Writes refused or failed by a storage fault, by ErrorInfo reason: "
      "STORAGE_FULL (full disk or free-space reserve not met), STORAGE_ERROR "
      "(other I/O errors).";
  write_faults.type = MetricType::Counter;
  for (const auto& [reason, count] :
       {std::pair{"STORAGE_FULL", faults.storage_full},
        std::pair{"STORAGE_ERROR", faults.storage_error}}) {
    prometheus::ClientMetric sample =
        Sample(db_name, static_cast<double>(count), MetricType::Counter);
    sample.label.push_back({"reason", reason});
    write_faults.metric.push_back(std::move(sample));
  }
  families.push_back(std::move(write_faults));
  families.push_back(Family(
      absl::StrCat(ToAbsl(kPrefix), "reopens_total"),
      "Times the database was closed and opened again in place to resume "
      "writes after a storage fault DB::Resume cannot clear (a failed WAL "
      "append).",
      MetricType::Counter, db_name, static_cast<double>(db_->reopens())));

  const SharedMemory& memory = db_->memory();
  families.push_back(Family(
      absl::StrCat(ToAbsl(kPrefix), "block_cache_usage_bytes"),
      "Bytes in the block cache, including memtable memory charged to it; "
      "the cache may be shared by several databases of the process.",
      MetricType::Gauge, db_name,
      static_cast<double>(memory.block_cache->GetUsage())));
  families.push_back(Family(
      absl::StrCat(ToAbsl(kPrefix), "block_cache_capacity_bytes"),
      "Capacity of the (possibly shared) block cache.", MetricType::Gauge,
      db_name, static_cast<double>(memory.block_cache->GetCapacity())));
  families.push_back(Family(
      absl::StrCat(ToAbsl(kPrefix), "write_buffer_manager_usage_bytes"),
      "Memtable memory of all databases sharing the write buffer manager.",
      MetricType::Gauge, db_name,
      static_cast<double>(memory.write_buffer_manager->memory_usage())));
  return families;
}

}  // namespace trainyard::storage
