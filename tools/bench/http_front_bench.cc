// Copyright 2026 The Trainyard Authors.
//
// http_front_bench: common/http's HttpServer alone, in this process, under
// slow clients (issue 11 §2); --front=microhttpd and --front=beast run the
// same figures on the library candidates (microhttpd_front.h,
// beast_front.h) for the comparison. One keep-alive client
// (RawHttpConnection) posts --requests small webhooks to a handler that
// answers 204, first alone, then while --slow connections trickle: half send
// their request header one byte at a time, half a body (Content-Length 100,000)
// one byte at a time, each one byte per --trickle_ms. Prints for both phases
// the client's rate and latency percentiles, the server's CPU per request
// (process CPU minus the client's and the trickler's threads), and the RSS the
// slow connections cost. The goal: with them, the client keeps >= 90% of its
// rate alone and p99 <= 50 ms. Run with --slow=0 to measure the server's CPU
// per request only. Phases must end within the server's header_timeout (10 s),
// after which a real attacker would have to reconnect; keep --requests so. Then
// the slow connections trickle on until --hold_s after they opened, and the
// bench counts how many of them the server has ended: a front that lets them
// stay can be held full by an attacker who never reconnects.
//
//   build/tools/bench/http_front_bench --slow=1000 --requests=20000
//   build/tools/bench/http_front_bench --slow=1000 --front=microhttpd
//   build/tools/bench/http_front_bench --slow=1000 --front=beast

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config/flags.h"
#include "common/http/server.h"
#include "tools/bench/beast_front.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/microhttpd_front.h"
#include "tools/bench/raw_http.h"

namespace {

using ::trainyard::bench::Percentiles;
using ::trainyard::bench::RawHttpConnection;
using ::trainyard::bench::SteadyClock;
using ::trainyard::bench::ThreadCpuSeconds;

struct Flags {
  int64_t slow = 1000;
  int64_t requests = 20000;
  int64_t trickle_ms = 1000;
  int64_t workers = 16;
  int64_t hold_s = 15;
  std::string front = "trainyard";
};

// Every front's cap on connections: room for the slow ones and the client.
int MaxConnections(const Flags& f) { return static_cast<int>(f.slow) + 100; }

// The server under test: its port and its count of open connections.
struct Front {
  int port = 0;
  std::function<int64_t()> open_connections;
};

absl::StatusOr<Front> StartTrainyard(const Flags& f) {
  trainyard::http::HttpServerOptions options;
  options.worker_threads = static_cast<int>(f.workers);
  options.max_connections_per_address = MaxConnections(f);
  options.max_connections = MaxConnections(f);
  auto server = std::make_shared<trainyard::http::HttpServer>(options);
  server->Handle(trainyard::http::Method::kPost, "/v1/webhooks/runpod/{job_id}",
                 [](const trainyard::http::HttpRequest&) {
                   trainyard::http::HttpResponse response;
                   response.status = 204;
                   return response;
                 });
  absl::StatusOr<int> port = server->Start();
  if (!port.ok()) return port.status();
  return Front{*port, [server] { return server->open_connections(); }};
}

// A library candidate: anything with Start(threads, max_connections), port()
// and open_connections().
template <typename Server>
absl::StatusOr<Front> StartCandidate(const Flags& f) {
  absl::StatusOr<std::unique_ptr<Server>> started =
      Server::Start(static_cast<int>(f.workers), MaxConnections(f));
  if (!started.ok()) return started.status();
  std::shared_ptr<Server> server = std::move(*started);
  return Front{server->port(), [server] { return server->open_connections(); }};
}

absl::StatusOr<Front> StartFront(const Flags& f) {
  if (f.front == "trainyard") return StartTrainyard(f);
  if (f.front == "microhttpd") {
    return StartCandidate<trainyard::bench::MicrohttpdFront>(f);
  }
  if (f.front == "beast")
    return StartCandidate<trainyard::bench::BeastFront>(f);
  return absl::InvalidArgumentError(
      absl::StrCat("--front: trainyard, microhttpd or beast, not ", f.front));
}

// Whether the server has ended the connection: closed it, reset it, or
// answered it (a 408 is followed by a close).
bool EndedByServer(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct PhaseResult {
  double req_s = 0;
  Percentiles latency;
  double server_cpu_us = 0;
  int failures = 0;
};

// Posts `requests` webhooks on one connection; `other_cpu` returns the CPU
// seconds of the other load-generating threads so far.
PhaseResult RunClient(int port, int64_t requests,
                      const std::function<double()>& other_cpu) {
  PhaseResult result;
  absl::StatusOr<RawHttpConnection> connection =
      RawHttpConnection::Connect(port);
  if (!connection.ok()) {
    std::fprintf(stderr, "connect: %s\n",
                 connection.status().ToString().c_str());
    result.failures = static_cast<int>(requests);
    return result;
  }
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"},
      {"webhook-id", "msg_2Yz8xkq"},
      {"webhook-timestamp", "1764925200"},
      {"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}};
  const std::string body =
      R"({"type":"metrics","step":1200,"values":{"train_loss":0.4123,)"
      R"("learning_rate":0.0002,"grad_norm":1.7,"tokens_per_second":5120}})";
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(requests));
  const double cpu0 = trainyard::bench::SelfCpuSeconds();
  const double client0 = ThreadCpuSeconds();
  const double other0 = other_cpu();
  const SteadyClock::time_point start = SteadyClock::now();
  for (int64_t i = 0; i < requests; ++i) {
    const SteadyClock::time_point t0 = SteadyClock::now();
    absl::StatusOr<RawHttpConnection::Response> r = connection->Post(
        absl::StrCat("/v1/webhooks/runpod/job-", i % 64), headers, body);
    ms.push_back(trainyard::bench::MillisBetween(t0, SteadyClock::now()));
    if (!r.ok() || r->status != 204) ++result.failures;
  }
  const double seconds = trainyard::bench::SecondsSince(start);
  const double server_cpu = (trainyard::bench::SelfCpuSeconds() - cpu0) -
                            (ThreadCpuSeconds() - client0) -
                            (other_cpu() - other0);
  result.req_s = static_cast<double>(requests) / seconds;
  result.latency = trainyard::bench::Summarize(std::move(ms));
  result.server_cpu_us = server_cpu * 1e6 / static_cast<double>(requests);
  return result;
}

void Print(const char* name, const PhaseResult& r) {
  std::printf(
      "%-6s %8.0f req/s  server CPU %.1f us/req  latency %s  failures %d\n",
      name, r.req_s, r.server_cpu_us,
      trainyard::bench::Describe(r.latency).c_str(), r.failures);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  trainyard::config::FlagSet flags("http_front_bench");
  flags.AddInt("slow", "slow connections in the second phase", &f.slow)
      .Range(0, 15000);
  flags.AddInt("requests", "requests of the client per phase", &f.requests)
      .Range(1, 10000000);
  flags
      .AddInt("trickle_ms", "each slow connection sends a byte this often",
              &f.trickle_ms)
      .Range(1, 60000);
  flags.AddInt("workers", "the server's worker_threads", &f.workers)
      .Range(1, 1024);
  flags
      .AddInt("hold_s",
              "keep trickling until this many seconds after the slow "
              "connections opened, then count those the server ended",
              &f.hold_s)
      .Range(0, 3600);
  flags.AddString("front", "trainyard (common/http), microhttpd or beast",
                  &f.front);
  if (std::optional<int> exit =
          trainyard::bench::StartBench(flags, argc, argv)) {
    return *exit;
  }

  absl::StatusOr<Front> front = StartFront(f);
  if (!front.ok()) {
    std::fprintf(stderr, "%s\n", front.status().ToString().c_str());
    return 1;
  }
  const int port = front->port;
  std::printf("front: %s\n", f.front.c_str());

  const PhaseResult alone = RunClient(port, f.requests, [] { return 0.0; });
  Print("alone", alone);
  if (f.slow == 0) {
    std::printf("RESULT req_s=%.0f server_cpu_us=%.1f p99_ms=%.2f\n",
                alone.req_s, alone.server_cpu_us, alone.latency.p99);
    return alone.failures == 0 ? 0 : 1;
  }

  const int64_t rss0 = trainyard::bench::StatusKiB(getpid(), "VmRSS");
  std::vector<int> slow;
  const SteadyClock::time_point opened = SteadyClock::now();
  for (int64_t i = 0; i < f.slow; ++i) {
    const int fd = Connect(port);
    if (fd < 0) break;
    const std::string start =
        i % 2 == 0 ? "POST /v1/webhooks/runpod/slow HTTP/1.1\r\nHost: x\r\n"
                   : "POST /v1/webhooks/runpod/slow HTTP/1.1\r\n"
                     "Content-Length: 100000\r\n\r\n{";
    ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::atomic<double> trickler_cpu{0};
  std::thread trickler([&] {
    const double cpu0 = ThreadCpuSeconds();
    while (!done.load()) {
      const SteadyClock::time_point round = SteadyClock::now();
      for (size_t i = 0; i < slow.size() && !done.load(); ++i) {
        ::send(slow[i], i % 2 == 0 ? "X" : " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      trickler_cpu.store(ThreadCpuSeconds() - cpu0);
      // Pacing of the load generator, not a wait for the server.
      std::this_thread::sleep_until(round +
                                    std::chrono::milliseconds(f.trickle_ms));
    }
  });
  const int64_t open_before = front->open_connections();
  const PhaseResult loaded =
      RunClient(port, f.requests, [&] { return trickler_cpu.load(); });
  const int64_t open_after = front->open_connections();
  const int64_t rss1 = trainyard::bench::StatusKiB(getpid(), "VmRSS");
  // Pacing: the slow connections go on trickling for the hold phase.
  std::this_thread::sleep_until(opened + std::chrono::seconds(f.hold_s));
  done.store(true);
  trickler.join();
  size_t ended = 0;
  for (int fd : slow) ended += EndedByServer(fd) ? 1 : 0;
  Print("slow", loaded);
  std::printf(
      "slow connections: %zu opened; the server had %ld open when the "
      "client started and %ld when it ended (the client's included); RSS "
      "+%.1f MiB with them (both ends of each socket are in this process)\n",
      slow.size(), static_cast<long>(open_before),
      static_cast<long>(open_after), trainyard::bench::MiB(rss1 - rss0));
  std::printf(
      "after %ld s of trickling the server had ended %zu of the %zu slow "
      "connections (%ld still open)\n",
      static_cast<long>(f.hold_s), ended, slow.size(),
      static_cast<long>(front->open_connections()));
  const double kept = loaded.req_s / alone.req_s;
  std::printf(
      "RESULT slow=%zu alone_req_s=%.0f slow_req_s=%.0f kept=%.0f%% "
      "slow_p99_ms=%.2f alone_cpu_us=%.1f slow_cpu_us=%.1f ended=%zu "
      "goal=%s\n",
      slow.size(), alone.req_s, loaded.req_s, kept * 100, loaded.latency.p99,
      alone.server_cpu_us, loaded.server_cpu_us, ended,
      kept >= 0.9 && loaded.latency.p99 <= 50 ? "met" : "MISSED");
  for (int fd : slow) ::close(fd);
  return loaded.failures == 0 ? 0 : 1;
}
