// Copyright 2026 Trainyard authors.
#include "services/metrics/events/event_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/search/keyword_matcher.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::metrics {
namespace {

namespace common = ::trainyard::common::v1;
using metrics::v1::Event;

std::string JobPrefix(std::string_view job_id) {
  return storage::KeyBuilder().AddString(job_id).Build();
}

std::string EventKey(std::string_view job_id, uint64_t job_seq) {
  return storage::KeyBuilder().AddString(job_id).AddUint64(job_seq).Build();
}

std::string EventIdKey(std::string_view job_id, std::string_view event_id) {
  return storage::KeyBuilder().AddString(job_id).AddString(event_id).Build();
}

// The events of one page, chosen under the index lock.
struct PagePick {
  size_t position;
  uint64_t job_seq;
  std::vector<CodePointSpan> spans;
};

struct ScanResult {
  std::vector<PagePick> page;
  bool has_more = false;
  int64_t total = 0;
  int64_t matches = 0;
};

// The number of events among the first `end` of the index that a
// type-only selection selects.
int64_t CountByType(const JobIndex& index, const EventSelector& selector,
                    size_t end) {
  if (selector.SelectsAllTypes()) return static_cast<int64_t>(end);
  int64_t n = 0;
  for (size_t i = 0; i < end; ++i) n += selector.MatchesType(index.type(i));
  return n;
}

// One pass over the index in the requested order, over events <= anchor:
// picks the page after `cursor` and counts the selected events and keyword
// matches. Counts are exact without a keyword (issue 10: "page X of Y"); with
// one they are exact up to `keyword_cap`, then just "more than the cap". A
// type-only selection is counted apart (CountByType), so its pass stops at
// the page.
ScanResult ScanIndex(const JobIndex& index, const EventSelector& selector,
                     uint64_t anchor, std::optional<uint64_t> cursor,
                     int32_t page_size, int32_t keyword_cap) {
  ScanResult r;
  const KeywordMatcher* keyword = selector.keyword();
  const bool newest_first = selector.order() == EventOrder::kNewestFirst;
  const bool by_type = selector.SelectsByTypeOnly();
  const int64_t cap = keyword_cap;
  const size_t end = index.CountUpTo(anchor);
  auto visit = [&](size_t i) -> bool {  // false: stop
    if (!selector.MatchesType(index.type(i))) return true;
    const EventFacts& facts = index.facts(i);
    if (!selector.MatchesFacts(facts)) return true;
    int matches = 1;
    if (keyword != nullptr) {
      // Beyond the cap only "at least one" matters.
      const int64_t want = std::max<int64_t>(1, cap + 1 - r.matches);
      matches = keyword->CountIn(index.folded_message(i),
                                 static_cast<int>(std::min<int64_t>(
                                     want, std::numeric_limits<int>::max())));
      if (matches == 0) return true;
    }
    ++r.total;
    r.matches += matches;
    const bool after_cursor =
        !cursor ||
        (newest_first ? facts.job_seq < *cursor : facts.job_seq > *cursor);
    if (after_cursor) {
      if (static_cast<int32_t>(r.page.size()) < page_size) {
        r.page.push_back({i, facts.job_seq, {}});
      } else {
        r.has_more = true;
      }
    }
    // The page is known and the counts are settled (or counted apart).
    return !(r.has_more && (by_type || (keyword != nullptr && r.total > cap &&
                                        r.matches > cap)));
  };
  if (newest_first) {
    for (size_t i = end; i-- > 0;) {
      if (!visit(i)) break;
    }
  } else {
    for (size_t i = 0; i < end; ++i) {
      if (!visit(i)) break;
    }
  }
  if (by_type) r.total = CountByType(index, selector, end);
  if (keyword != nullptr) {
    for (PagePick& pick : r.page) {
      pick.spans = keyword->FindIn(index.folded_message(pick.position));
    }
  }
  return r;
}

}  // namespace

// ---- EventUpdate ------------------------------------------------------------

std::optional<uint64_t> EventUpdate::FindStaged(
    std::string_view job_id, std::string_view event_id) const {
  for (auto it = ops_.rbegin(); it != ops_.rend(); ++it) {
    if (it->job_id != job_id) continue;
    if (it->delete_job) return std::nullopt;
    if (it->event_id == event_id) return it->facts.job_seq;
  }
  return std::nullopt;
}

// ---- EventStore: writing ----------------------------------------------------

std::vector<std::string> EventStore::ColumnFamilies() {
  return {std::string(kEventsCf), std::string(kEventIdsCf),
          std::string(kEventIndexCf)};
}

EventStore::EventStore(storage::Db& db, EventStoreOptions options)
    : db_(db),
      options_(std::move(options)),
      slots_(options_.index_memory_bytes) {}

absl::StatusOr<std::optional<uint64_t>> EventStore::FindByEventId(
    std::string_view job_id, std::string_view event_id) const {
  ASSIGN_OR_RETURN(std::vector<std::optional<uint64_t>> found,
                   FindByEventIds(job_id, {event_id}));
  return found[0];
}

absl::StatusOr<std::vector<std::optional<uint64_t>>> EventStore::FindByEventIds(
    std::string_view job_id,
    const std::vector<std::string_view>& event_ids) const {
  std::vector<std::string> keys;
  keys.reserve(event_ids.size());
  for (std::string_view id : event_ids) keys.push_back(EventIdKey(job_id, id));
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   db_.MultiGetRaw(kEventIdsCf, keys));
  std::vector<std::optional<uint64_t>> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].has_value()) continue;
    std::string_view bytes(*values[i]);
    uint64_t job_seq = 0;
    if (!storage::ConsumeUint64(&bytes, &job_seq) || !bytes.empty()) {
      return absl::DataLossError(
          absl::StrCat("malformed event id record of job ", ToAbsl(job_id),
                       " event ", ToAbsl(event_ids[i])));
    }
    out[i] = job_seq;
  }
  return out;
}

absl::StatusOr<uint64_t> EventStore::LatestJobSeq(
    std::string_view job_id) const {
  const std::string prefix = JobPrefix(job_id);
  ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Iterator> it,
      db_.NewIterator(kEventIndexCf, storage::KeyRange::Prefix(prefix),
                      storage::Direction::kReverse));
  if (!it->Valid()) {
    RETURN_IF_ERROR(it->status());
    return 0;
  }
  std::string_view rest = it->key().substr(prefix.size());
  uint64_t job_seq = 0;
  if (!storage::ConsumeUint64(&rest, &job_seq) || !rest.empty()) {
    return absl::DataLossError(
        absl::StrCat("malformed event key ", storage::PrintableKey(it->key())));
  }
  return job_seq;
}

void EventStore::Stage(const Event& event, storage::WriteBatch& batch,
                       EventUpdate* staged) {
  const std::string key = EventKey(event.job_id(), event.job_seq());
  batch.Put(kEventsCf, key, event);
  batch.PutRaw(kEventIdsCf, EventIdKey(event.job_id(), event.event_id()),
               storage::EncodeUint64(event.job_seq()));
  batch.PutRaw(kEventIndexCf, key, EncodeIndexRecord(event));
  EventUpdate::Op op;
  op.job_id = event.job_id();
  op.event_id = event.event_id();
  op.facts = FactsOf(event);
  AppendFolded(event.message(), &op.folded_message);
  staged->ops_.push_back(std::move(op));
}

absl::StatusOr<int64_t> EventStore::DeleteJob(std::string_view job_id,
                                              storage::WriteBatch& batch,
                                              EventUpdate* staged) {
  const std::string prefix = JobPrefix(job_id);
  // The prefix ends in KeyBuilder's separator, so a successor always exists.
  const std::string limit = *storage::PrefixSuccessor(prefix);
  int64_t count = 0;
  RETURN_IF_ERROR(db_.Scan(kEventIndexCf, storage::KeyRange::Prefix(prefix),
                           storage::Direction::kForward,
                           [&count](std::string_view, std::string_view) {
                             ++count;
                             return true;
                           }));
  for (std::string_view cf : {kEventsCf, kEventIdsCf, kEventIndexCf}) {
    batch.DeleteRange(cf, prefix, limit);
  }
  EventUpdate::Op op;
  op.delete_job = true;
  op.job_id = std::string(job_id);
  staged->ops_.push_back(std::move(op));
  return count;
}

void EventStore::Publish(const EventUpdate& update) {
  for (const EventUpdate::Op& op : update.ops_) {
    if (op.delete_job) {
      slots_.Erase(op.job_id);
      continue;
    }
    SlotHandle slot = slots_.Find(op.job_id);
    if (!slot) continue;  // built from RocksDB when queried
    bool gap = false;
    size_t bytes = 0;
    {
      absl::MutexLock lock(&slot->mu);
      if (!slot->built) continue;  // the build reads this event
      const uint64_t last = slot->index.last_job_seq();
      if (op.facts.job_seq <= last) continue;  // the build already read it
      if (op.facts.job_seq != last + 1) {
        gap = true;
      } else {
        slot->index.Append(op.facts, op.folded_message);
        bytes = slot->index.MemoryBytes();
        slot->events.store(slot->index.size());
      }
    }
    if (gap) {
      slots_.Erase(op.job_id, slot.get());
    } else {
      slots_.Charge(slot, bytes);
    }
  }
}

// ---- EventStore: index cache ------------------------------------------------

absl::StatusOr<EventStore::SlotHandle> EventStore::AcquireSlot(
    std::string_view job_id) {
  SlotHandle slot = slots_.Get(job_id);
  size_t bytes = 0;
  {
    absl::MutexLock lock(&slot->mu);
    if (slot->built) return slot;
    // A failed build leaves the slot half built and out of the cache: whoever
    // held it meanwhile gets the error, the next Get a new slot.
    if (!slot->load_status.ok()) return slot->load_status;
    // Built under the slot's lock: a Publish that finds the slot waits for
    // the build and then appends only what the build did not read, so no
    // event is lost in between.
    absl::Status status = BuildIndex(job_id, &slot->index);
    if (!status.ok()) {
      slot->load_status = status;
      slots_.Erase(job_id, slot.get());
      return status;
    }
    slot->index.Compact();
    slot->built = true;
    bytes = slot->index.MemoryBytes();
    slot->events.store(slot->index.size());
  }
  slots_.Charge(slot, bytes);
  return slot;
}

absl::Status EventStore::BuildIndex(std::string_view job_id,
                                    JobIndex* index) const {
  const std::string prefix = JobPrefix(job_id);
  absl::Status status;
  std::string folded;
  RETURN_IF_ERROR(db_.Scan(
      kEventIndexCf, storage::KeyRange::Prefix(prefix),
      storage::Direction::kForward,
      [&](std::string_view key, std::string_view value) {
        std::string_view rest = key.substr(prefix.size());
        uint64_t job_seq = 0;
        if (!storage::ConsumeUint64(&rest, &job_seq) || !rest.empty()) {
          status = absl::DataLossError(
              absl::StrCat("malformed event key ", storage::PrintableKey(key)));
          return false;
        }
        EventFacts facts;
        std::string_view message;
        status = DecodeIndexRecord(job_seq, value, &facts, &message);
        if (!status.ok()) return false;
        folded.clear();
        AppendFolded(message, &folded);
        index->Append(facts, folded);
        return true;
      }));
  return status;
}

EventStore::IndexStats EventStore::GetIndexStats() const {
  IndexStats stats;
  slots_.ForEach([&stats](std::string_view, const JobSlot& slot) {
    stats.events += slot.events.load();
  });
  cache::JobCache<JobSlot>::Stats cache = slots_.stats();
  stats.jobs = cache.entries;
  stats.bytes = cache.bytes;
  return stats;
}

// ---- EventStore: reading ----------------------------------------------------

absl::StatusOr<Event> EventStore::GetEvent(std::string_view job_id,
                                           uint64_t job_seq) const {
  Event event;
  absl::Status status = db_.Get(kEventsCf, EventKey(job_id, job_seq), &event);
  if (status.ok()) return event;
  if (!absl::IsNotFound(status)) return status;
  ASSIGN_OR_RETURN(uint64_t latest, LatestJobSeq(job_id));
  if (latest == 0) return JobHasNoEvents(job_id);
  return EventNotFound(job_id, job_seq);
}

absl::StatusOr<EventPage> EventStore::List(const EventListQuery& query) {
  const std::string& job_id = query.job_id;
  const EventSelector& selector = query.selector;
  ASSIGN_OR_RETURN(SlotHandle slot, AcquireSlot(job_id));
  ScanResult scan;
  uint64_t anchor = 0;
  {
    absl::ReaderMutexLock lock(&slot->mu);
    if (slot->index.empty()) return JobHasNoEvents(job_id);
    anchor =
        query.after ? query.after->anchor_job_seq : slot->index.last_job_seq();
    scan = ScanIndex(slot->index, selector, anchor,
                     query.after
                         ? std::optional<uint64_t>(query.after->last_job_seq)
                         : std::nullopt,
                     query.page_size, options_.count_cap);
  }

  EventPage page;
  metrics::v1::ListEventsResponse& response = page.response;
  for (PagePick& pick : scan.page) {
    metrics::v1::MatchedEvent matched;
    absl::Status status = db_.Get(kEventsCf, EventKey(job_id, pick.job_seq),
                                  matched.mutable_event());
    if (absl::IsNotFound(status)) continue;  // purged meanwhile
    RETURN_IF_ERROR(status);
    for (const CodePointSpan& span : pick.spans) {
      metrics::v1::MatchSpan* out = matched.add_matches();
      out->set_start(span.start);
      out->set_length(span.length);
    }
    *response.add_events() = std::move(matched);
  }
  // Only a keyword search is capped; other counts are exact (and fit: a job
  // has far fewer than 2^31 events).
  const int64_t cap = selector.keyword() != nullptr
                          ? options_.count_cap
                          : std::numeric_limits<int32_t>::max();
  response.set_total_size(static_cast<int32_t>(std::min(scan.total, cap)));
  response.set_total_size_capped(scan.total > cap);
  if (selector.keyword() != nullptr) {
    response.set_match_count(static_cast<int32_t>(std::min(scan.matches, cap)));
    response.set_match_count_capped(scan.matches > cap);
  }
  response.set_latest_job_seq(anchor);
  if (scan.has_more && !scan.page.empty()) {
    page.next = EventCursor{.anchor_job_seq = anchor,
                            .last_job_seq = scan.page.back().job_seq};
  }
  return page;
}

absl::Status EventStore::ReadRange(
    std::string_view job_id, uint64_t after, uint64_t until,
    absl::FunctionRef<bool(const Event&)> visit) const {
  if (until <= after) return absl::OkStatus();
  const std::string start = EventKey(job_id, after + 1);
  // Past `until`: the next key, or the end of the job's keys.
  const std::string limit =
      until == std::numeric_limits<uint64_t>::max()
          ? *storage::KeyRange::Prefix(JobPrefix(job_id)).limit
          : EventKey(job_id, until + 1);
  ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Iterator> it,
      db_.NewIterator(kEventsCf, storage::KeyRange::Between(start, limit),
                      storage::Direction::kForward));
  Event event;
  for (; it->Valid(); it->Next()) {
    RETURN_IF_ERROR(it->ParseValue(&event));
    if (!visit(event)) break;
  }
  return it->status();
}

absl::StatusOr<std::vector<Event>> EventStore::ReadLatest(
    std::string_view job_id, uint64_t until,
    absl::Span<const common::EventType> types, int limit) {
  std::vector<uint64_t> seqs;  // newest first
  {
    ASSIGN_OR_RETURN(SlotHandle slot, AcquireSlot(job_id));
    absl::ReaderMutexLock lock(&slot->mu);
    for (size_t i = slot->index.CountUpTo(until);
         i-- > 0 && static_cast<int>(seqs.size()) < limit;) {
      if (types.empty() || std::find(types.begin(), types.end(),
                                     slot->index.type(i)) != types.end()) {
        seqs.push_back(slot->index.facts(i).job_seq);
      }
    }
  }
  std::vector<Event> events;
  events.reserve(seqs.size());
  for (auto it = seqs.rbegin(); it != seqs.rend(); ++it) {
    Event event;
    absl::Status status = db_.Get(kEventsCf, EventKey(job_id, *it), &event);
    if (absl::IsNotFound(status)) continue;  // purged meanwhile
    RETURN_IF_ERROR(status);
    events.push_back(std::move(event));
  }
  return events;
}

absl::Status EventStore::Export(
    const EventExportQuery& query, absl::Time now,
    absl::FunctionRef<absl::Status(const metrics::v1::ExportEventsResponse&)>
        sink) {
  const std::string& job_id = query.job_id;
  const EventSelector& selector = query.selector;
  const common::ExportFormat format = query.format;
  ASSIGN_OR_RETURN(uint64_t latest, LatestJobSeq(job_id));
  if (latest == 0) return JobHasNoEvents(job_id);

  // The iterator's snapshot is the export's consistent view of the log.
  ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Iterator> it,
      db_.NewIterator(kEventsCf, storage::KeyRange::Prefix(JobPrefix(job_id)),
                      selector.order() == EventOrder::kNewestFirst
                          ? storage::Direction::kReverse
                          : storage::Direction::kForward));
  ExportWriter writer(
      format, ExportFilename(job_id, now, format), sink,
      std::clamp<size_t>(options_.export_chunk_bytes, 1, kMaxExportChunkBytes));
  const KeywordMatcher* keyword = selector.keyword();
  Event event;
  std::string folded;
  for (; it->Valid(); it->Next()) {
    RETURN_IF_ERROR(it->ParseValue(&event));
    if (!selector.MatchesFacts(FactsOf(event))) continue;
    if (keyword != nullptr) {
      folded.clear();
      AppendFolded(event.message(), &folded);
      if (keyword->CountIn(folded, 1) == 0) continue;
    }
    RETURN_IF_ERROR(writer.Add(event));
  }
  RETURN_IF_ERROR(it->status());
  return writer.Finish();
}

}  // namespace trainyard::metrics
