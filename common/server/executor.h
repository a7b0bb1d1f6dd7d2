// Copyright 2026 Trainyard authors.
//
// A fixed pool of worker threads. Handlers run here, never on gRPC's callback
// threads, so a slow disk read or an fsync never stalls the transport
// (traps.md).
#pragma once

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace trainyard::server {

class Executor {
 public:
  // Starts `threads` workers at CPU niceness `nice` (0: the process's; 1..19:
  // lower priority, so that they yield the CPU to other threads). REQUIRES:
  // threads > 0.
  explicit Executor(int threads, int nice = 0);
  // Runs every task already submitted, then joins the workers.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`; thread-safe. Tasks submitted after destruction began are
  // still run.
  void Submit(absl::AnyInvocable<void() &&> task);

 private:
  void Work(int nice);

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace trainyard::server
