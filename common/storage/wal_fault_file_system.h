// -----------------------------------------------------------------------------
// File: common/storage/wal_fault_file_system.h
// -----------------------------------------------------------------------------
//
// For tests: a real (POSIX) RocksDB file system whose WAL and SST appends fail
// on demand (an I/O error, a full disk, a torn write) and whose free space can
// be made to look low, to check that a failed write leaves nothing behind and
// that the database answers, recovers and keeps serving reads.
//
//   auto fs = std::make_shared<WalFaultFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   options.env = env.get();   // storage::Options
//   fs->set_fault(WalFault::kFail);          // WAL appends fail with EIO
//   fs->set_sst_fault(WalFault::kNoSpace);   // flushes fail with ENOSPC
//   fs->set_other_fault(WalFault::kFail);    // MANIFEST, OPTIONS, ... too
//   fs->set_free_space(1 << 20);             // GetFreeSpace reports 1 MiB
//
// RocksDB stops writing after a WAL or flush error (reads keep working) until
// it resumes (storage::Db resumes it, or reopens the database, on the next
// write once the fault is gone).

#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace trainyard::storage::testing {

// What the WAL (or SST) files of a WalFaultFileSystem do on Append.
enum class WalFault {
  kNone,
  kFail,     // Nothing reaches the file; Append returns an I/O error (EIO).
  kNoSpace,  // Nothing reaches the file; Append returns ENOSPC.
  kTorn,     // The first half of the data reaches the file, then an I/O error:
             // the torn write of a crash in the middle of a WAL append.
};

class FaultyWalFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWalFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                const std::atomic<WalFault>* fault)
      : FSWritableFileOwnerWrapper(std::move(file)), fault_(fault) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    switch (fault_->load()) {
      case WalFault::kNone:
        return target()->Append(data, options, dbg);
      case WalFault::kFail:
        return rocksdb::IOStatus::IOError("injected append failure (EIO)");
      case WalFault::kNoSpace:
        return rocksdb::IOStatus::NoSpace("injected append failure (ENOSPC)");
      case WalFault::kTorn: {
        rocksdb::IOStatus s = target()->Append(
            rocksdb::Slice(data.data(), data.size() / 2), options, dbg);
        if (s.ok()) s = target()->Flush(options, dbg);
        return rocksdb::IOStatus::IOError("injected torn WAL append");
      }
    }
    return rocksdb::IOStatus::IOError("unreachable");
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& /*info*/,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }

 private:
  const std::atomic<WalFault>* fault_;
};

// A real (POSIX) file system whose WAL files (*.log), table files (*.sst) and
// other files fail on demand, and whose free space can be overridden.
class WalFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  WalFaultFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  const char* Name() const override { return "WalFaultFileSystem"; }

  // The fault of WAL files, including those already open.
  void set_fault(WalFault fault) { fault_.store(fault); }
  // The fault of SST files (flush and compaction output).
  void set_sst_fault(WalFault fault) { sst_fault_.store(fault); }
  // The fault of every other file, including those already open (MANIFEST,
  // OPTIONS, storage::Db's reopen probe): with both others, a disk that is
  // full or failing as a whole.
  void set_other_fault(WalFault fault) { other_fault_.store(fault); }
  // What GetFreeSpace reports; a negative value reports the real space.
  void set_free_space(int64_t bytes) { free_space_.store(bytes); }

  rocksdb::IOStatus GetFreeSpace(const std::string& path,
                                 const rocksdb::IOOptions& options,
                                 uint64_t* free_space,
                                 rocksdb::IODebugContext* dbg) override {
    if (int64_t bytes = free_space_.load(); bytes >= 0) {
      *free_space = static_cast<uint64_t>(bytes);
      return rocksdb::IOStatus::OK();
    }
    return target()->GetFreeSpace(path, options, free_space, dbg);
  }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<FaultyWalFile>(std::move(*result), &fault_);
    } else if (s.ok() && absl::EndsWith(name, ".sst")) {
      *result =
          std::make_unique<FaultyWalFile>(std::move(*result), &sst_fault_);
    } else if (s.ok()) {
      *result =
          std::make_unique<FaultyWalFile>(std::move(*result), &other_fault_);
    }
    return s;
  }

 private:
  std::atomic<WalFault> fault_{WalFault::kNone};
  std::atomic<WalFault> sst_fault_{WalFault::kNone};
  std::atomic<WalFault> other_fault_{WalFault::kNone};
  std::atomic<int64_t> free_space_{-1};
};

}  // namespace trainyard::storage::testing
