// Copyright 2026 Trainyard authors.
//
// JobCache<T>: one value per key (a job's in-memory state), created on
// demand and held to a byte budget, least recently used first out.
//
// The cache does not load anything itself: Get returns the key's entry,
// a default-constructed T when it was not cached, and the caller loads it
// (under T's own lock, see below) and reports its size with Charge. An
// evicted entry is simply dropped; the next Get makes a fresh T that the
// caller loads again (from RocksDB: the stores keep everything there).
//
// Pinning. A Handle pins its entry: a pinned entry is never evicted, so a
// job's state cannot be dropped while a writer has it checked out or a
// reader is in the middle of it. The budget is therefore exceeded by the
// entries pinned at a time (a constant: calls in flight), never by history.
//
//   JobCache<Slot>::Handle slot = cache.Get(job_id);
//   absl::MutexLock lock(&slot->mu);
//   if (!slot->loaded) { ...load...; cache.Charge(slot, bytes); }
//
// Accounting. An entry costs the bytes last Charged for it plus
// EntryOverhead() and its key; Charge, Get of a new key and Erase evict the
// least recently used unpinned entries while the total is over the budget.
// Values are destroyed outside the cache's lock.
//
// Thread-safe. T is shared by every holder of a handle to it: T guards its
// own contents (a mutex in T, or atomics).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace trainyard::cache {

template <typename T>
class JobCache {
  struct Entry;

 public:
  // What the cache itself charges per entry (map slot, links, counters).
  // A function, so that a store can declare a JobCache of a type it only
  // forward-declares.
  static constexpr size_t EntryOverhead() { return 64 + sizeof(T); }

  // A pin on one entry. Move-only; empty when default-constructed or moved
  // from.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept = default;
    Handle& operator=(Handle&& other) noexcept {
      if (this != &other) {
        Unpin();
        entry_ = std::move(other.entry_);
      }
      return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { Unpin(); }

    explicit operator bool() const { return entry_ != nullptr; }
    T& operator*() const { return entry_->value; }
    T* operator->() const { return &entry_->value; }
    T* get() const { return entry_ ? &entry_->value : nullptr; }
    // The entry's key. REQUIRES: not empty.
    const std::string& key() const { return entry_->key; }

   private:
    friend class JobCache;
    explicit Handle(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {
      entry_->pins.fetch_add(1, std::memory_order_relaxed);
    }
    void Unpin() {
      if (entry_ != nullptr) {
        entry_->pins.fetch_sub(1, std::memory_order_release);
        entry_.reset();
      }
    }
    std::shared_ptr<Entry> entry_;
  };

  struct Stats {
    size_t entries = 0;
    size_t bytes = 0;  // charged, overheads included
    uint64_t hits = 0;
    uint64_t misses = 0;  // entries created by Get
    uint64_t evictions = 0;
  };

  explicit JobCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  JobCache(const JobCache&) = delete;
  JobCache& operator=(const JobCache&) = delete;

  size_t capacity() const { return capacity_; }

  // The entry of `key`, pinned and made the most recently used; a new one
  // (T default-constructed, charged nothing yet) when not cached.
  Handle Get(std::string_view key) {
    Victims victims;
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      ++hits_;
      Entry* e = it->second.get();
      MoveToFront(e);
      return Handle(it->second);
    }
    ++misses_;
    auto entry = std::make_shared<Entry>(key);
    Entry* e = entry.get();
    e->charge = EntryOverhead() + e->key.size();
    bytes_ += e->charge;
    e->cached = true;
    PushFront(e);
    Handle handle(entry);  // pinned before eviction can see it
    map_.emplace(std::string_view(e->key), std::move(entry));
    EvictLocked(victims);
    return handle;
  }

  // The entry of `key` if cached (pinned), else an empty handle. Leaves the
  // LRU order as it is (a write to an entry nobody reads does not keep it).
  Handle Find(std::string_view key) const {
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return Handle();
    return Handle(it->second);
  }

  // Sets what the entry of `handle` holds, in bytes, then evicts while over
  // budget. No effect for an entry no longer cached.
  void Charge(const Handle& handle, size_t bytes) {
    Victims victims;
    absl::MutexLock lock(&mu_);
    Entry* e = handle.entry_.get();
    if (!e->cached) return;
    const size_t charge = EntryOverhead() + e->key.size() + bytes;
    bytes_ = bytes_ - e->charge + charge;
    e->charge = charge;
    EvictLocked(victims);
  }

  // Drops the entry of `key` (holders of a handle keep their T; a later Get
  // makes a new one). With `only` set, only if `only` is the cached entry.
  void Erase(std::string_view key, const T* only = nullptr) {
    std::shared_ptr<Entry> victim;
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it == map_.end() || (only != nullptr && &it->second->value != only)) {
      return;
    }
    victim = std::move(it->second);
    map_.erase(it);
    Unlink(victim.get());
  }

  // Drops the entry of `key` unless it is pinned. Returns whether it did.
  bool Evict(std::string_view key) {
    std::shared_ptr<Entry> victim;
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it == map_.end() ||
        it->second->pins.load(std::memory_order_acquire) != 0) {
      return false;
    }
    victim = std::move(it->second);
    map_.erase(it);
    Unlink(victim.get());
    ++evictions_;
    return true;
  }

  // Calls `visit(key, value)` for every cached entry, under the cache's lock:
  // `visit` must only read what T allows without T's lock (atomics).
  void ForEach(
      absl::FunctionRef<void(std::string_view, const T&)> visit) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, entry] : map_) visit(key, entry->value);
  }

  Stats stats() const {
    absl::MutexLock lock(&mu_);
    return Stats{map_.size(), bytes_, hits_, misses_, evictions_};
  }

 private:
  struct Entry {
    explicit Entry(std::string_view k) : key(k) {}
    const std::string key;
    T value;
    std::atomic<int> pins{0};
    // Guarded by the cache's mu_ (the analysis cannot name it from here).
    bool cached = false;
    size_t charge = 0;
    Entry* prev = nullptr;  // towards the most recently used
    Entry* next = nullptr;  // towards the least recently used
  };
  // Evicted entries, destroyed after the lock is released.
  using Victims = absl::InlinedVector<std::shared_ptr<Entry>, 4>;

  void PushFront(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    e->prev = nullptr;
    e->next = head_;
    if (head_ != nullptr) head_->prev = e;
    head_ = e;
    if (tail_ == nullptr) tail_ = e;
  }
  void Remove(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    (e->prev != nullptr ? e->prev->next : head_) = e->next;
    (e->next != nullptr ? e->next->prev : tail_) = e->prev;
    e->prev = e->next = nullptr;
  }
  void MoveToFront(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (head_ == e) return;
    Remove(e);
    PushFront(e);
  }
  // Takes a cached entry (already out of map_) out of the list and the total.
  void Unlink(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Remove(e);
    bytes_ -= e->charge;
    e->cached = false;
  }
  // Least recently used first, skipping pinned entries.
  void EvictLocked(Victims& victims) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (Entry* e = tail_; e != nullptr && bytes_ > capacity_;) {
      Entry* prev = e->prev;
      if (e->pins.load(std::memory_order_acquire) == 0) {
        auto it = map_.find(std::string_view(e->key));
        victims.push_back(std::move(it->second));
        map_.erase(it);
        Unlink(e);
        ++evictions_;
      }
      e = prev;
    }
  }

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string_view, std::shared_ptr<Entry>> map_
      ABSL_GUARDED_BY(mu_);
  Entry* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Entry* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trainyard::cache
