// Copyright 2026 Trainyard authors.
//
// A loopback TCP port that listens but never accepts: connections open (the
// kernel's backlog takes them) and no byte ever answers. For tests of client
// deadlines and of "address already in use". Aborts the test binary if the
// socket cannot be set up. Library ty_testing_tempdir.
#pragma once

#include <string>

namespace trainyard::testing {

class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace trainyard::testing
