// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/metrics/events/job_index.h
// -----------------------------------------------------------------------------
//
// The compact in-memory index of one job's event log, which ListEvents scans
// instead of RocksDB (R-EVT-02, R-EVT-03): per event its EventFacts (32 bytes)
// and the offset of its case-folded message in one arena, in job_seq order,
// plus a dense array of the types. About 41 bytes per event plus the folded
// message bytes: ~8.5 MiB for 100K events of ~45-byte messages (figures:
// tools/bench/events_bench).
//
// Also the record it is rebuilt from after a restart: EventStore writes, next
// to each event, a small "index record" (EncodeIndexRecord) holding the facts
// and the message, so a cold rebuild reads ~70 bytes per event instead of
// parsing whole events with their raw JSON.
//
// Thread-compatible: EventStore guards each JobIndex with a mutex.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "services/metrics/events/event_query.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// The index record of `event` (facts but job_seq, which is in the key, and the
// original message).
std::string EncodeIndexRecord(const metrics::v1::Event& event);

// Parses an index record of the event with `job_seq`. `*message` points into
// `record`. DATA_LOSS if malformed.
absl::Status DecodeIndexRecord(uint64_t job_seq, std::string_view record,
                               EventFacts* facts, std::string_view* message);

class JobIndex {
 public:
  JobIndex() = default;
  JobIndex(const JobIndex&) = delete;
  JobIndex& operator=(const JobIndex&) = delete;

  // Appends an event whose message, case-folded, is `folded_message`.
  // REQUIRES: facts.job_seq > last_job_seq().
  void Append(const EventFacts& facts, std::string_view folded_message);

  // Releases spare capacity (after a bulk load).
  void Compact();

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const EventFacts& facts(size_t i) const { return entries_[i].facts; }
  // facts(i).type, from a dense array: a scan that tests the type first reads
  // 1 byte per event instead of a 40-byte entry.
  uint8_t type(size_t i) const { return types_[i]; }
  std::string_view folded_message(size_t i) const {
    const size_t end =
        i + 1 < entries_.size() ? entries_[i + 1].text_begin : arena_.size();
    return std::string_view(arena_).substr(entries_[i].text_begin,
                                           end - entries_[i].text_begin);
  }

  // 0 when empty.
  uint64_t last_job_seq() const {
    return entries_.empty() ? 0 : entries_.back().facts.job_seq;
  }

  // The number of events with job_seq <= `job_seq` (the position of the first
  // event after it).
  size_t CountUpTo(uint64_t job_seq) const;

  // Heap bytes held (capacity, not size).
  size_t MemoryBytes() const {
    return entries_.capacity() * sizeof(Entry) + types_.capacity() +
           arena_.capacity();
  }

 private:
  struct Entry {
    EventFacts facts;
    uint64_t text_begin;  // into arena_; the text ends where the next begins
  };

  std::vector<Entry> entries_;
  std::vector<uint8_t> types_;  // entries_[i].facts.type
  std::string arena_;
};

}  // namespace trainyard::metrics
