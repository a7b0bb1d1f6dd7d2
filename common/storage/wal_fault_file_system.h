// -----------------------------------------------------------------------------
// File: common/storage/wal_fault_file_system.h
// -----------------------------------------------------------------------------
//
// For tests: a real (POSIX) RocksDB file system whose WAL appends fail on
// demand, to check that a failed write leaves nothing behind.
//
//   auto fs = std::make_shared<WalFaultFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   options.env = env.get();   // storage::Options
//   fs->set_fault(WalFault::kFail);
//
// RocksDB stops writing after a WAL error (reads keep working) until the
// database is reopened.

#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace trainyard::storage::testing {

// What the WAL files of a WalFaultFileSystem do on Append.
enum class WalFault {
  kNone,
  kFail,  // Nothing reaches the file; Append returns an I/O error.
  kTorn,  // The first half of the data reaches the file, then an I/O error:
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
        return rocksdb::IOStatus::IOError("injected WAL append failure");
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

// A real (POSIX) file system whose WAL files (*.log) fail on demand.
class WalFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  WalFaultFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

  const char* Name() const override { return "WalFaultFileSystem"; }

  void set_fault(WalFault fault) { fault_.store(fault); }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *result = std::make_unique<FaultyWalFile>(std::move(*result), &fault_);
    }
    return s;
  }

 private:
  std::atomic<WalFault> fault_{WalFault::kNone};
};

}  // namespace trainyard::storage::testing
