#include "services/metrics/series/chunk_index.h"

#include <algorithm>
#include <utility>

namespace trainyard::metrics {

ChunkMeta MakeChunkMeta(const std::vector<SeriesPoint>& points,
                        uint64_t version) {
  ChunkMeta meta;
  meta.first_step = points.front().step;
  meta.last_step = points.back().step;
  meta.version = version;
  for (const SeriesPoint& p : points) meta.extremes.Add(p);
  meta.last = points.back();
  return meta;
}

ChunkIndex::ChunkIndex(size_t group_size)
    : group_size_(std::max<size_t>(group_size, 1)), offsets_{0} {}

ChunkIndex ChunkIndex::FromMetas(std::vector<ChunkMeta> metas,
                                 size_t group_size) {
  ChunkIndex index(group_size);
  index.AppendGroups(std::move(metas));
  index.Finish();
  return index;
}

void ChunkIndex::AppendGroups(std::vector<ChunkMeta> metas) {
  // Groups are filled from the front, so appending at the end (the common
  // case) keeps every group but the last full.
  for (size_t begin = 0; begin < metas.size(); begin += group_size_) {
    size_t end = std::min(metas.size(), begin + group_size_);
    auto group = std::make_shared<Group>();
    group->metas.assign(std::make_move_iterator(metas.begin() + begin),
                        std::make_move_iterator(metas.begin() + end));
    for (const ChunkMeta& meta : group->metas) {
      group->extremes.Merge(meta.extremes);
    }
    groups_.push_back(std::move(group));
  }
}

void ChunkIndex::Finish() {
  offsets_.assign(1, 0);
  offsets_.reserve(groups_.size() + 1);
  total_count_ = 0;
  for (const auto& group : groups_) {
    offsets_.push_back(offsets_.back() + group->metas.size());
    total_count_ += group->extremes.count;
  }
}

size_t ChunkIndex::GroupOf(size_t i) const {
  // The last group whose first chunk index is <= i.
  auto it = std::upper_bound(offsets_.begin(), offsets_.end() - 1, i);
  return static_cast<size_t>(it - offsets_.begin()) - 1;
}

const ChunkMeta& ChunkIndex::at(size_t i) const {
  size_t g = GroupOf(i);
  return groups_[g]->metas[i - offsets_[g]];
}

size_t ChunkIndex::FirstEndingAtOrAfter(int64_t step) const {
  // Groups are ordered, so their last chunks' last steps are increasing.
  auto git = std::partition_point(
      groups_.begin(), groups_.end(),
      [step](const auto& g) { return g->metas.back().last_step < step; });
  if (git == groups_.end()) return size();
  size_t g = git - groups_.begin();
  const auto& metas = (*git)->metas;
  auto it = std::partition_point(
      metas.begin(), metas.end(),
      [step](const ChunkMeta& m) { return m.last_step < step; });
  return offsets_[g] + (it - metas.begin());
}

size_t ChunkIndex::FirstStartingAfter(int64_t step) const {
  auto git = std::partition_point(
      groups_.begin(), groups_.end(),
      [step](const auto& g) { return g->metas.back().first_step <= step; });
  if (git == groups_.end()) return size();
  size_t g = git - groups_.begin();
  const auto& metas = (*git)->metas;
  auto it = std::partition_point(
      metas.begin(), metas.end(),
      [step](const ChunkMeta& m) { return m.first_step <= step; });
  return offsets_[g] + (it - metas.begin());
}

Extremes ChunkIndex::Aggregate(size_t begin, size_t end) const {
  Extremes result;
  if (begin >= end) return result;
  size_t g = GroupOf(begin);
  size_t i = begin;
  while (i < end) {
    const Group& group = *groups_[g];
    size_t group_begin = offsets_[g];
    size_t group_end = offsets_[g + 1];
    if (i == group_begin && end >= group_end) {
      result.Merge(group.extremes);
    } else {
      size_t stop = std::min(end, group_end);
      for (size_t k = i; k < stop; ++k) {
        result.Merge(group.metas[k - group_begin].extremes);
      }
    }
    i = group_end;
    ++g;
  }
  return result;
}

ChunkIndex ChunkIndex::Replace(size_t begin, size_t end,
                               std::vector<ChunkMeta> replacement) const {
  ChunkIndex result(group_size_);
  if (groups_.empty()) {
    result.AppendGroups(std::move(replacement));
    result.Finish();
    return result;
  }
  // Groups [g0, g1] are rebuilt; the others are shared.
  size_t g0 = begin < size() ? GroupOf(begin) : groups_.size() - 1;
  size_t g1 = end > begin ? GroupOf(end - 1) : g0;
  g1 = std::max(g0, g1);
  // An append to a full last group starts a new group instead of splitting.
  if (begin == size() && groups_[g0]->metas.size() >= group_size_) {
    result.groups_.assign(groups_.begin(), groups_.end());
    result.AppendGroups(std::move(replacement));
    result.Finish();
    return result;
  }
  result.groups_.assign(groups_.begin(), groups_.begin() + g0);
  std::vector<ChunkMeta> metas;
  metas.reserve(offsets_[g1 + 1] - offsets_[g0] + replacement.size());
  for (size_t i = offsets_[g0]; i < begin; ++i) metas.push_back(at(i));
  for (ChunkMeta& meta : replacement) metas.push_back(std::move(meta));
  for (size_t i = end; i < offsets_[g1 + 1]; ++i) metas.push_back(at(i));
  result.AppendGroups(std::move(metas));
  result.groups_.insert(result.groups_.end(), groups_.begin() + g1 + 1,
                        groups_.end());
  result.Finish();
  return result;
}

std::vector<ChunkMeta> ChunkIndex::ToVector() const {
  std::vector<ChunkMeta> metas;
  metas.reserve(size());
  for (const auto& group : groups_) {
    metas.insert(metas.end(), group->metas.begin(), group->metas.end());
  }
  return metas;
}

}  // namespace trainyard::metrics
