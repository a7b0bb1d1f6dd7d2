// Copyright 2026 Trainyard authors.
//
// The jobs-list query language and index on a real RocksDB (temp dir):
// rebuild at start, filters, keyword, sort, paging, the change log.
#include "services/jobs/views/job_index.h"

#include <memory>

#include "common/status/errors.h"
#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using trainyard::testing::StatusIs;

struct Spec {
  std::string id;
  std::string name;
  common::v1::JobState state = common::v1::JOB_STATE_QUEUED;
  std::string creator = "ana";
  double cost = 0;
  int64_t created = 0;  // seconds after the origin
  std::vector<std::string> tags = {};
  std::string notes = "";
  common::v1::Preset preset = common::v1::PRESET_BALANCED;
  int64_t started = -1;  // -1: never started
};

internal::JobRecord Record(const Spec& s) {
  const absl::Time origin = absl::FromUnixSeconds(1764000000);
  internal::JobRecord r;
  v1::Job* j = r.mutable_job();
  j->set_job_id(s.id);
  j->set_state(s.state);
  j->mutable_spec()->set_display_name(s.name);
  j->mutable_spec()->set_notes(s.notes);
  for (const std::string& t : s.tags) j->mutable_spec()->add_tags(t);
  j->mutable_spec()->mutable_config()->set_preset(s.preset);
  j->mutable_spec()->mutable_config()->set_gpu_type(
      common::v1::GPU_TYPE_A100_80GB);
  j->mutable_created_by()->set_user_id(s.creator);
  j->mutable_created_by()->set_display_name(s.creator);
  *j->mutable_create_time() = ToProto(origin + absl::Seconds(s.created));
  if (s.started >= 0) {
    *j->mutable_start_time() = ToProto(origin + absl::Seconds(s.started));
  }
  j->mutable_cost()->mutable_spend()->set_micros(
      static_cast<int64_t>(s.cost * 1e6));
  return r;
}

class JobIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::Db::Open(storage::testing::TestOptions(
        dir_.Sub("db"), JobStore::ColumnFamilies()));
    ASSERT_OK(db.status());
    db_ = *std::move(db);
    auto store = JobStore::Open(*db_);
    ASSERT_OK(store.status());
    store_ = *std::move(store);
  }

  void Put(const Spec& s) {
    Commit c;
    c.record = Record(s);
    ASSERT_OK(store_->Write(c));
  }

  // Rebuilds the index from the store, as at start.
  void Rebuild() {
    auto index = JobIndex::Build(*store_, 7);
    ASSERT_OK(index.status());
    index_ = *std::move(index);
    store_->AddObserver(
        [i = index_.get()](const internal::JobRecord& r) { i->Upsert(r); });
  }

  std::vector<std::string> Ids(const std::string& filter,
                               const std::string& keyword = "",
                               const std::string& order = "") {
    absl::StatusOr<JobQuery> q = ParseJobQuery(filter, keyword, order);
    EXPECT_OK(q.status());
    if (!q.ok()) return {};
    return index_->Query(*q, std::nullopt, 100, kNow).job_ids;
  }

  static constexpr int64_t kNow = int64_t{1764100000} * 1000000;
  trainyard::testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<JobIndex> index_;
};

TEST_F(JobIndexTest, R_LIST_02_RebuiltFromRocksDbAndKeptCurrentByWrites) {
  Put({.id = "j1", .name = "alpha", .created = 1});
  Put({.id = "j2", .name = "beta", .created = 2});
  Rebuild();
  EXPECT_EQ(index_->size(), 2u);
  // Default order: create_time descending.
  EXPECT_THAT(Ids(""), ElementsAre("j2", "j1"));
  Put({.id = "j3", .name = "gamma", .created = 3});
  EXPECT_THAT(Ids(""), ElementsAre("j3", "j2", "j1"));
  internal::JobRecord deleted = Record({.id = "j2", .name = "beta"});
  deleted.set_deleted(true);
  Commit c;
  c.record = deleted;
  ASSERT_OK(store_->Write(c));
  EXPECT_THAT(Ids(""), ElementsAre("j3", "j1"));
  EXPECT_EQ(index_->LastChange(), 2u);
}

TEST_F(JobIndexTest, R_LIST_02_FiltersStatusesCreatorPresetAndCostBuckets) {
  Put({.id = "a",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 20,
       .created = 1});
  Put({.id = "b",
       .state = common::v1::JOB_STATE_QUEUED,
       .creator = "bo",
       .cost = 75,
       .created = 2});
  Put({.id = "c",
       .state = common::v1::JOB_STATE_COMPLETED,
       .cost = 150,
       .created = 3,
       .preset = common::v1::PRESET_AGGRESSIVE});
  Put({.id = "d",
       .state = common::v1::JOB_STATE_TRAINING,
       .cost = 50,
       .created = 4});
  Rebuild();
  EXPECT_THAT(Ids("(state = TRAINING OR state = QUEUED)"),
              ElementsAre("d", "b", "a"));
  EXPECT_THAT(Ids("created_by = \"bo\""), ElementsAre("b"));
  EXPECT_THAT(Ids("created_by != \"bo\" AND terminal = false"),
              ElementsAre("d", "a"));
  EXPECT_THAT(Ids("preset = PRESET_AGGRESSIVE"), ElementsAre("c"));
  EXPECT_THAT(Ids("cost < 50"), ElementsAre("a"));
  EXPECT_THAT(Ids("cost >= 50 AND cost <= 100"), ElementsAre("d", "b"));
  EXPECT_THAT(Ids("(cost < 50 OR cost > 100)"), ElementsAre("c", "a"));
  EXPECT_THAT(Ids("active = true"), ElementsAre("d", "a"));
  EXPECT_THAT(Ids("create_time >= \"2025-11-24T16:00:02Z\""),
              ElementsAre("d", "c", "b"));
}

TEST_F(JobIndexTest,
       R_LIST_02_KeywordIsUnicodeCaseInsensitiveOverNameNotesTags) {
  Put({.id = "n", .name = "Zürich-Übersetzer", .created = 1});
  Put({.id = "t", .name = "x", .created = 2, .tags = {"Client-X"}});
  Put({.id = "o", .name = "y", .created = 3, .notes = "Trained for ΣΊΣΥΦΟΣ"});
  Put({.id = "none", .name = "other", .created = 4});
  Rebuild();
  EXPECT_THAT(Ids("", "züRICH-üBER"), ElementsAre("n"));
  EXPECT_THAT(Ids("", "client-x"), ElementsAre("t"));
  EXPECT_THAT(Ids("tags:\"CLIENT-X\""), ElementsAre("t"));
  EXPECT_THAT(Ids("", "σίσυφος"), ElementsAre("o"));
}

TEST_F(JobIndexTest, R_LIST_03_SortsByAnyColumnStablyWithMissingValuesLast) {
  Put({.id = "a", .name = "b", .cost = 5, .created = 1, .started = 10});
  Put({.id = "b", .name = "A", .cost = 9, .created = 2});
  Put({.id = "c", .name = "c", .cost = 5, .created = 3, .started = 20});
  Rebuild();
  EXPECT_THAT(Ids("", "", "cost desc"), ElementsAre("b", "c", "a"));
  // Equal cost: create_time descending breaks the tie.
  EXPECT_THAT(Ids("", "", "cost asc"), ElementsAre("c", "a", "b"));
  EXPECT_THAT(Ids("", "", "display_name"), ElementsAre("b", "a", "c"));
  EXPECT_THAT(Ids("", "", "start_time asc"), ElementsAre("a", "c", "b"));
  EXPECT_THAT(Ids("", "", "start_time desc"), ElementsAre("c", "a", "b"));
  EXPECT_THAT(Ids("", "", "duration desc"), ElementsAre("a", "c", "b"));
}

TEST_F(JobIndexTest, R_LIST_04_PagesFollowTheLastRowAndCountTotal) {
  for (int i = 0; i < 7; ++i) {
    Put({.id = absl::StrCat("j", i),
         .cost = static_cast<double>(i % 3),
         .created = i});
  }
  Rebuild();
  auto q = ParseJobQuery("", "", "cost desc");
  ASSERT_OK(q.status());
  std::vector<std::string> all;
  std::optional<SortKey> after;
  int pages = 0;
  do {
    JobIndex::Page p = index_->Query(*q, after, 3, kNow);
    EXPECT_EQ(p.total_size, 7);
    all.insert(all.end(), p.job_ids.begin(), p.job_ids.end());
    after = p.next;
    if (after) {
      ASSERT_OK_AND_ASSIGN(SortKey decoded,
                           DecodeSortKey(EncodeSortKey(*after)));
      EXPECT_EQ(decoded.job_id, after->job_id);
      after = decoded;
    }
    ++pages;
  } while (after);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(all, ElementsAre("j5", "j2", "j4", "j1", "j6", "j3", "j0"));
}

TEST_F(JobIndexTest, R_LIST_02_FilterErrorsNamePositionAndToken) {
  absl::Status s = ParseJobQuery("state = TRAINNG", "", "").status();
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown state \"TRAINNG\" at position 0")));
  EXPECT_EQ(FieldViolations(s)[0].field, "filter");
  EXPECT_EQ(ErrorReason(s), "INVALID_FILTER");
  s = ParseJobQuery("cost = 5 AND colour = red", "", "").status();
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown field \"colour\" at position 13")));
  s = ParseJobQuery("state < TRAINING", "", "").status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("operator \"<\" is not accepted")));
  s = ParseJobQuery("cost < cheap", "", "").status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("\"cheap\" at position 0")));
  s = ParseJobQuery("", "", "colour desc").status();
  EXPECT_EQ(FieldViolations(s)[0].field, "order_by");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("unknown sort field \"colour\"")));
  s = ParseJobQuery("", std::string(201, 'k'), "").status();
  EXPECT_EQ(FieldViolations(s)[0].field, "keyword");
}

TEST_F(JobIndexTest, R_LIST_07_ChangeLogCoalescesWithRowsBeforeAndAfter) {
  Rebuild();
  Put({.id = "a", .created = 1});
  Put({.id = "b", .created = 2});
  Put({.id = "a", .name = "renamed", .created = 1});
  uint64_t upto = 0;
  auto changed = index_->ChangesSince(0, 10, &upto);
  ASSERT_TRUE(changed.has_value());
  ASSERT_EQ(changed->size(), 2u);
  EXPECT_EQ((*changed)[0].job_id, "a");
  EXPECT_EQ((*changed)[0].before, nullptr);  // created after seq 0
  EXPECT_EQ((*changed)[0].after->name_folded, "renamed");
  EXPECT_EQ((*changed)[1].job_id, "b");
  EXPECT_EQ(upto, 3u);
  changed = index_->ChangesSince(2, 10, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].before->name_folded, "");
  EXPECT_EQ((*changed)[0].after->name_folded, "renamed");
  // At most `max` jobs: the round stops before the next job's first change.
  changed = index_->ChangesSince(0, 1, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ(upto, 1u);
  EXPECT_EQ((*changed)[0].after->name_folded, "");  // as of seq 1
  EXPECT_FALSE(index_->ChangesSince(99, 10, &upto).has_value());

  // A deletion leaves the row it removed as `before`, no `after`.
  internal::JobRecord gone = Record({.id = "b", .created = 2});
  gone.set_deleted(true);
  Commit c;
  c.record = gone;
  ASSERT_OK(store_->Write(c));
  changed = index_->ChangesSince(3, 10, &upto);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_NE((*changed)[0].before, nullptr);
  EXPECT_EQ((*changed)[0].after, nullptr);
}

}  // namespace
}  // namespace trainyard::jobs
