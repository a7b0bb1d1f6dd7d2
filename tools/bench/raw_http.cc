// Copyright 2026 Trainyard authors.
#include "tools/bench/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::bench {

absl::StatusOr<RawHttpConnection> RawHttpConnection::Connect(int port) {
  absl::StatusOr<int> fd = Open(port);
  if (!fd.ok()) return fd.status();
  return RawHttpConnection(*fd, port);
}

absl::StatusOr<int> RawHttpConnection::Open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect 127.0.0.1:", port, ": ", std::strerror(err)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

RawHttpConnection::RawHttpConnection(RawHttpConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(other.port_),
      request_(std::move(other.request_)),
      buffer_(std::move(other.buffer_)) {}

RawHttpConnection::~RawHttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<RawHttpConnection::Response> RawHttpConnection::Post(
    std::string_view path,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view body) {
  request_.clear();
  absl::StrAppend(&request_, "POST ", ToAbsl(path),
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/json\r\n");
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&request_, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&request_, "Content-Length: ", body.size(), "\r\n\r\n",
                  ToAbsl(body));
  absl::StatusOr<Response> response = Exchange();
  if (!absl::IsUnavailable(response.status())) return response;
  ::close(std::exchange(fd_, -1));
  buffer_.clear();
  absl::StatusOr<int> fd = Open(port_);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  return Exchange();
}

absl::StatusOr<RawHttpConnection::Response> RawHttpConnection::Exchange() {
  for (size_t sent = 0; sent < request_.size();) {
    ssize_t n = ::send(fd_, request_.data() + sent, request_.size() - sent,
                       MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("send failed");
    sent += static_cast<size_t>(n);
  }
  // Headers, then Content-Length bytes of body.
  size_t header_end = std::string::npos;
  size_t total = 0;
  Response response;
  while (true) {
    if (header_end == std::string::npos) {
      header_end = buffer_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string_view head(buffer_.data(), header_end);
        // "HTTP/1.1 200 OK"
        if (head.size() < 12 ||
            !absl::SimpleAtoi(ToAbsl(head.substr(9, 3)), &response.status)) {
          return absl::DataLossError("malformed status line");
        }
        size_t length = 0;
        for (size_t at = head.find("\r\n"); at != std::string_view::npos;) {
          size_t next = head.find("\r\n", at + 2);
          std::string_view line = head.substr(
              at + 2,
              next == std::string_view::npos ? head.npos : next - at - 2);
          if (absl::StartsWithIgnoreCase(ToAbsl(line), "content-length:")) {
            if (!absl::SimpleAtoi(
                    absl::StripAsciiWhitespace(ToAbsl(line.substr(15))),
                    &length)) {
              return absl::DataLossError("malformed Content-Length");
            }
          }
          at = next;
        }
        total = header_end + 4 + length;
      }
    }
    if (header_end != std::string::npos && buffer_.size() >= total) break;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("connection closed");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  response.body = buffer_.substr(header_end + 4, total - header_end - 4);
  buffer_.erase(0, total);
  return response;
}

}  // namespace trainyard::bench
