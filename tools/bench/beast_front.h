// Copyright 2026 The Trainyard Authors.
//
// File: tools/bench/beast_front.h
// -----------------------------------------------------------------------------
// The Boost.Beast candidate for the webhook front (issue 11 §2), beside
// microhttpd_front.h, set up as common/http's HttpServer is so that
// http_front_bench measures the three side by side: an io_context run by
// `threads` threads (handlers run on them, a strand per connection), a
// 10 s deadline on each whole request (Beast's tcp_stream timer covers the
// operation, not each byte: a trickling header is cut off), 16 KiB of header
// and 1 MiB of body at most, a 5 s keep-alive timeout, a cap on open
// connections, and the same route: POST /v1/webhooks/runpod/{job_id} reads
// the body and answers 204. Built for the comparison only; the services do
// not link it.

#ifndef TRAINYARD_TOOLS_BENCH_BEAST_FRONT_H_
#define TRAINYARD_TOOLS_BENCH_BEAST_FRONT_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace trainyard::bench {

class BeastFront {
 public:
  // Listens on 127.0.0.1, a port the kernel picks.
  static absl::StatusOr<std::unique_ptr<BeastFront>> Start(int threads,
                                                           int max_connections);
  ~BeastFront();
  BeastFront(const BeastFront&) = delete;
  BeastFront& operator=(const BeastFront&) = delete;

  int port() const;
  int64_t open_connections() const;

 private:
  struct State;
  explicit BeastFront(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace trainyard::bench

#endif  // TRAINYARD_TOOLS_BENCH_BEAST_FRONT_H_
