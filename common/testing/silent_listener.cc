// Copyright 2026 Trainyard authors.
#include "common/testing/silent_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace trainyard::testing {

SilentListener::SilentListener() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd_ < 0 ||
      bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd_, 16) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("SilentListener");
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
}

SilentListener::~SilentListener() { close(fd_); }

std::string SilentListener::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace trainyard::testing
