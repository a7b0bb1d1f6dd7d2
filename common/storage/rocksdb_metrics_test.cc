#include "common/storage/rocksdb_metrics.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace trainyard::storage {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::trainyard::storage::testing::TestOptions;
using ::trainyard::testing::IsOk;
using ::trainyard::testing::TempDir;

const prometheus::MetricFamily* Find(
    const std::vector<prometheus::MetricFamily>& families,
    const std::string& name) {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

class RocksDbMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options = TestOptions(dir_.Sub("db"), {"jobs"});
    options.name = "scheduler";
    options.sync_writes = true;
    absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(options);
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    for (int i = 0; i < 10; ++i) {
      ASSERT_THAT(db_->PutRaw("jobs", "k" + std::to_string(i), "value"),
                  IsOk());
    }
    ASSERT_THAT(db_->GetRaw("jobs", "k1"), IsOk());
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

TEST(SanitizeMetricNameTest, ReplacesInvalidCharacters) {
  EXPECT_EQ(SanitizeMetricName("rocksdb.block.cache.hit"),
            "rocksdb_block_cache_hit");
  EXPECT_EQ(SanitizeMetricName("a-b c:d"), "a_b_c_d");
  EXPECT_EQ(SanitizeMetricName("9lives"), "_9lives");
  EXPECT_EQ(SanitizeMetricName(""), "_");
  EXPECT_EQ(SanitizeMetricName("ok_Name_1"), "ok_Name_1");
}

TEST_F(RocksDbMetricsTest, NamesAreValidPrefixedAndTyped) {
  RocksDbMetricsCollector collector(db_.get());
  std::vector<prometheus::MetricFamily> families = collector.Collect();
  ASSERT_FALSE(families.empty());
  const std::regex valid("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
  std::set<std::string> names;
  for (const prometheus::MetricFamily& family : families) {
    SCOPED_TRACE(family.name);
    EXPECT_TRUE(std::regex_match(family.name, valid));
    EXPECT_TRUE(family.name.starts_with("trainyard_rocksdb_"));
    EXPECT_FALSE(family.help.empty());
    EXPECT_TRUE(names.insert(family.name).second) << "duplicate";
    bool ends_in_total = family.name.ends_with("_total");
    if (family.type == prometheus::MetricType::Counter) {
      EXPECT_TRUE(ends_in_total);
    } else {
      EXPECT_EQ(family.type, prometheus::MetricType::Gauge);
      EXPECT_FALSE(ends_in_total);
    }
    EXPECT_EQ(family.name.find("micros"), std::string::npos);
    EXPECT_EQ(family.name.find("_ms"), std::string::npos);
    if (family.name == "trainyard_rocksdb_write_faults_total") {
      ASSERT_EQ(family.metric.size(), 2u);  // one per reason
      EXPECT_EQ(family.metric[1].label[1].name, "reason");
    } else {
      ASSERT_EQ(family.metric.size(), 1u);
      ASSERT_EQ(family.metric[0].label.size(), 1u);
    }
    EXPECT_EQ(family.metric[0].label[0].name, "db");
    EXPECT_EQ(family.metric[0].label[0].value, "scheduler");
  }
  EXPECT_THAT(names, Contains("trainyard_rocksdb_block_cache_hit_total"));
  EXPECT_THAT(names, Contains("trainyard_rocksdb_write_stall_seconds_total"));
  EXPECT_THAT(names, Contains("trainyard_rocksdb_sst_files_bytes"));
  EXPECT_THAT(names, Contains("trainyard_rocksdb_block_cache_usage_bytes"));
}

TEST_F(RocksDbMetricsTest, ValuesReflectActivity) {
  RocksDbMetricsCollector collector(db_.get());
  std::vector<prometheus::MetricFamily> families = collector.Collect();
  const prometheus::MetricFamily* keys =
      Find(families, "trainyard_rocksdb_keys_written_total");
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->metric[0].counter.value, 10);
  const prometheus::MetricFamily* syncs =
      Find(families, "trainyard_rocksdb_wal_syncs_total");
  ASSERT_NE(syncs, nullptr);
  EXPECT_GE(syncs->metric[0].counter.value, 1);
  const prometheus::MetricFamily* wal =
      Find(families, "trainyard_rocksdb_wal_bytes_total");
  ASSERT_NE(wal, nullptr);
  EXPECT_GT(wal->metric[0].counter.value, 0);
  const prometheus::MetricFamily* memtables =
      Find(families, "trainyard_rocksdb_memtables_bytes");
  ASSERT_NE(memtables, nullptr);
  EXPECT_GT(memtables->metric[0].gauge.value, 0);
}

TEST_F(RocksDbMetricsTest, AfterCloseCountersRemainAndPropertiesAreLeftOut) {
  RocksDbMetricsCollector collector(db_.get());
  ASSERT_THAT(db_->Close(), IsOk());
  std::vector<prometheus::MetricFamily> families = collector.Collect();
  EXPECT_NE(Find(families, "trainyard_rocksdb_keys_written_total"), nullptr);
  EXPECT_EQ(Find(families, "trainyard_rocksdb_memtables_bytes"), nullptr);
}

TEST_F(RocksDbMetricsTest, TextExpositionPassesPromtool) {
  RocksDbMetricsCollector collector(db_.get());
  std::string text =
      prometheus::TextSerializer().Serialize(collector.Collect());
  EXPECT_NE(text.find("# HELP trainyard_rocksdb_block_cache_hit_total "),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE trainyard_rocksdb_block_cache_hit_total counter"),
            std::string::npos);

  const char* kPromtool = "/usr/bin/promtool";
  if (std::ifstream(kPromtool).fail()) {
    GTEST_SKIP() << kPromtool << " not installed";
  }
  std::string in = dir_.Sub("metrics.txt");
  std::string out = dir_.Sub("promtool.out");
  std::ofstream(in) << text;
  std::string command =
      std::string(kPromtool) + " check metrics < " + in + " > " + out + " 2>&1";
  int rc = std::system(command.c_str());
  std::stringstream output;
  output << std::ifstream(out).rdbuf();
  EXPECT_EQ(rc, 0) << output.str();
  EXPECT_THAT(output.str(), IsEmpty()) << text;
}

}  // namespace
}  // namespace trainyard::storage
