// Copyright 2026 The Trainyard Authors.
//
// File: tools/bench/microhttpd_front.h
// -----------------------------------------------------------------------------
// The libmicrohttpd candidate for the webhook front (issue 11 §2), set up the
// way common/http's HttpServer is, so http_front_bench can measure the two
// side by side: an epoll thread pool of `threads` threads (handlers run on
// them: libmicrohttpd has no separate worker pool), a 10 s inactivity timeout
// (its only deadline), connection caps in total and per address, and the
// same route: POST /v1/webhooks/runpod/{job_id} reads the body and answers
// 204. Built for the comparison only; the services do not link it.

#ifndef TRAINYARD_TOOLS_BENCH_MICROHTTPD_FRONT_H_
#define TRAINYARD_TOOLS_BENCH_MICROHTTPD_FRONT_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace trainyard::bench {

class MicrohttpdFront {
 public:
  // Listens on 127.0.0.1, a port the kernel picks.
  static absl::StatusOr<std::unique_ptr<MicrohttpdFront>> Start(
      int threads, int max_connections);
  ~MicrohttpdFront();
  MicrohttpdFront(const MicrohttpdFront&) = delete;
  MicrohttpdFront& operator=(const MicrohttpdFront&) = delete;

  int port() const { return port_; }
  int64_t open_connections() const;

 private:
  MicrohttpdFront(MHD_Daemon* daemon, int port)
      : daemon_(daemon), port_(port) {}
  MHD_Daemon* daemon_;
  int port_;
};

}  // namespace trainyard::bench

#endif  // TRAINYARD_TOOLS_BENCH_MICROHTTPD_FRONT_H_
