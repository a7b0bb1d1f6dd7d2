// Copyright 2026 Trainyard authors.
//
// subscribe_bench: figures of metrics-ingest's live subscriptions
// (MetricsService.SubscribeJob, issue 5). Starts a real `trainyard-metrics`
// (bench_support.h: temp data dir, WAL on, no fsync, bearer tokens) and holds
// the subscriptions in this process with gRPC's callback client API
// (grpc::ClientReadReactor): one reactor per stream, no thread per stream,
// streams spread over --channels channels (one TCP connection each). One mode
// per run:
//
//   --mode=fanout  --subscribers (1,000) streams on one job, each asking for
//                  every series the generator ingests (CurveOptions.series)
//                  with min_update_interval --interval (250 ms; the server
//                  allows 50 ms and more). A publisher thread sends
//                  IngestEvents at
//                  --rate (25) METRICS events/s of --values (8) values, one
//                  step each, --events_per_call (1) events per call. Reports
//                  point deliveries/s (one point = one metric value; one
//                  delivery = one point in a JobDelta.curve_points received by
//                  one subscriber) over --duration after --warmup, and the
//                  publish -> receive latency of every delivered point:
//                  receive time minus the time the publisher started the
//                  IngestEvents call that carried its step (both in this
//                  process, steady clock). Also the latency of the newest
//                  point of each delta (the server's push delay, without the
//                  coalescing wait), the IngestEvents latency, server and
//                  generator CPU, and after the publisher stops, whether
//                  every subscriber received every point (no gap).
//   --mode=idle    --subscriptions (10,000) streams on --jobs (10,000)
//                  distinct jobs (1 = all on the same job), each with one
//                  stored event, then nothing for --idle (60 s): only
//                  heartbeats (SubscriptionLimits::heartbeat in
//                  services/metrics/live/job_subscription.h, 15 s, no server
//                  flag; the API promises one at least every 15 s when idle).
//                  Reports the silence before each heartbeat, the
//                  time to open them all, the server's RSS (VmRSS, VmHWM)
//                  before, with the streams open and after they close, the
//                  server's and the generator's CPU per second while idle,
//                  and the heartbeats received.
//
// Every mode prints the command line, the load average, the wall time and CPU
// split of the measured interval, and ends with "RESULT key=value ...".

#include <grpcpp/grpcpp.h>
#include <stdio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/config/flags.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "tools/bench/bench_support.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::bench {
namespace {

namespace v1 = ::trainyard::metrics::v1;

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

struct Flags {
  std::string mode;
  ServerFlags server;
  int64_t channels = 0;  // 0: 10 for fanout, 100 for idle
  // fanout
  int64_t subscribers = 1000;
  double rate = 25;
  int64_t values = 8;
  int64_t events_per_call = 1;
  absl::Duration interval = absl::Milliseconds(250);
  int64_t max_points = 10000;
  absl::Duration duration = absl::Seconds(20);
  absl::Duration warmup = absl::Seconds(5);
  // idle
  int64_t subscriptions = 10000;
  int64_t jobs = 10000;
  absl::Duration idle = absl::Seconds(60);
  int64_t steps = 1;
  absl::Duration baseline = absl::Seconds(10);
};

absl::Status ParseFlags(int argc, char** argv, Flags* f, bool* help) {
  config::FlagSet flags("subscribe_bench");
  flags.AddString("mode", "fanout or idle", &f->mode);
  AddServerFlags(flags, &f->server);
  flags
      .AddInt("channels",
              "channels (TCP connections) the streams are spread over; 0: 10 "
              "for fanout, 100 for idle",
              &f->channels)
      .Range(0, 10000);
  flags.AddInt("subscribers", "fanout: streams on the one job", &f->subscribers)
      .Range(1, 100000);
  flags.AddDouble("rate", "fanout: METRICS events (steps) per second", &f->rate)
      .Range(0.1, 100000);
  flags.AddInt("values", "fanout: values (series) per event", &f->values)
      .Range(1, 8);
  flags
      .AddInt("events_per_call", "fanout: events per IngestEvents call",
              &f->events_per_call)
      .Range(1, 1000);
  flags.AddDuration("interval", "fanout: min_update_interval asked for",
                    &f->interval);
  flags
      .AddInt("max_points",
              "fanout: CurveOptions.max_points (points appended after a "
              "snapshot before the server sends a new one; at most 10,000)",
              &f->max_points)
      .Range(0, 100000);
  flags.AddDuration("duration", "fanout: measured interval", &f->duration);
  flags.AddDuration("warmup", "fanout: publishing before measuring",
                    &f->warmup);
  flags.AddInt("subscriptions", "idle: streams to open", &f->subscriptions)
      .Range(1, 1000000);
  flags
      .AddInt("jobs", "idle: distinct jobs the streams follow (1 = one job)",
              &f->jobs)
      .Range(1, 1000000);
  flags.AddDuration("idle", "idle: measured idle interval", &f->idle);
  flags
      .AddInt("steps",
              "idle: METRICS events (steps, 8 values) stored per job before "
              "subscribing; the snapshot's curve grows with them",
              &f->steps)
      .Range(1, 1000000);
  flags.AddDuration("baseline",
                    "idle: server CPU measured this long before subscribing",
                    &f->baseline);
  RETURN_IF_ERROR(ParseBenchFlags(flags, argc, argv, help));
  if (*help) return absl::OkStatus();
  if (f->mode != "fanout" && f->mode != "idle") {
    return absl::InvalidArgumentError("--mode: fanout or idle");
  }
  if (f->channels == 0) f->channels = f->mode == "fanout" ? 10 : 100;
  if (f->duration <= absl::ZeroDuration() || f->idle <= absl::ZeroDuration() ||
      f->warmup < absl::ZeroDuration() || f->baseline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("durations must be positive");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Subscribers
// ---------------------------------------------------------------------------

enum Phase { kWarmup = 0, kMeasure = 1, kAfter = 2 };

// What all subscribers share.
struct Shared {
  SteadyClock::time_point t0 = SteadyClock::now();
  std::atomic<int> phase{kWarmup};
  // Send time of each step (ns since t0; 0 = unknown), by step.
  std::unique_ptr<std::atomic<int64_t>[]> sent_ns;
  int64_t max_step = 0;  // size of sent_ns
  int values = 8;

  std::atomic<int64_t> started{0};  // got their first message
  std::atomic<int64_t> heartbeats{0};
  std::atomic<int64_t> messages{0};

  std::mutex mu;
  std::condition_variable cv;
  int64_t done = 0;         // guarded by mu
  std::string first_error;  // guarded by mu
  int64_t failed = 0;       // guarded by mu (not OK, not CANCELLED)

  int64_t NowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               SteadyClock::now() - t0)
        .count();
  }
};

struct SubscriberStats {
  int64_t snapshots = 0, deltas = 0, heartbeats = 0, fell_behind = 0, ends = 0;
  int64_t points = 0;           // in deltas, all phases
  int64_t measured_points = 0;  // deliveries received in the measured interval
  int64_t measured_deltas = 0;
  int64_t gap_steps = 0;            // steps skipped between deltas (never sent)
  int64_t resnapshot_steps = 0;     // steps covered by a later snapshot instead
  int64_t bad_deltas = 0;           // a series missing or not matching job_seq
  std::vector<double> latency_ms;   // per point delivered (measured)
  std::vector<double> freshest_ms;  // per delta: its newest point (measured)
  // Per heartbeat: seconds since the stream's previous message (of any
  // kind), i.e. how long it was silent.
  std::vector<double> heartbeat_gap_s;
};

class Subscriber final
    : public grpc::ClientReadReactor<v1::SubscribeJobResponse> {
 public:
  Subscriber(Shared& shared, v1::MetricsService::Stub& stub,
             v1::SubscribeJobRequest request, const MetricsServer& server)
      : shared_(shared), stub_(stub), request_(std::move(request)) {
    server.AuthorizeViewerStream(ctx_);
  }

  void Start() {
    stub_.async()->SubscribeJob(&ctx_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }

  // Highest step received (snapshot or delta); readable while running.
  int64_t last_step() const { return last_step_.load(); }
  // Only after OnDone.
  const SubscriberStats& stats() const { return stats_; }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const int64_t now_ns = shared_.NowNs();
    if (!started_) {
      started_ = true;
      shared_.started.fetch_add(1);
    }
    shared_.messages.fetch_add(1, std::memory_order_relaxed);
    switch (response_.update_case()) {
      case v1::SubscribeJobResponse::kSnapshot:
        OnSnapshot(response_.snapshot());
        break;
      case v1::SubscribeJobResponse::kDelta:
        OnDelta(response_.delta(), now_ns);
        break;
      case v1::SubscribeJobResponse::kHeartbeat:
        ++stats_.heartbeats;
        shared_.heartbeats.fetch_add(1, std::memory_order_relaxed);
        if (last_message_ns_ > 0) {
          stats_.heartbeat_gap_s.push_back((now_ns - last_message_ns_) / 1e9);
        }
        break;
      case v1::SubscribeJobResponse::kFellBehind:
        ++stats_.fell_behind;
        break;
      case v1::SubscribeJobResponse::kEnd:
        ++stats_.ends;
        break;
      default:
        break;
    }
    last_message_ns_ = now_ns;
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(shared_.mu);
    if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) {
      ++shared_.failed;
      if (shared_.first_error.empty()) {
        shared_.first_error =
            absl::StrCat("SubscribeJob ", request_.job_id(), ": ",
                         s.error_code(), " ", s.error_message());
      }
    }
    if (!started_) shared_.started.fetch_add(1);  // never will
    ++shared_.done;
    shared_.cv.notify_all();
  }

 private:
  void OnSnapshot(const v1::JobSnapshot& snapshot) {
    ++stats_.snapshots;
    const int64_t step = static_cast<int64_t>(snapshot.job_seq());
    if (stats_.snapshots > 1 && step > last_step()) {
      stats_.resnapshot_steps += step - last_step();
    }
    last_step_.store(std::max(last_step(), step));
  }

  void OnDelta(const v1::JobDelta& delta, int64_t now_ns) {
    ++stats_.deltas;
    const bool measured = shared_.phase.load() == kMeasure;
    if (measured) ++stats_.measured_deltas;
    // Every series carries the same steps; check the first one for gaps.
    const int64_t seq = static_cast<int64_t>(delta.job_seq());
    if (delta.curve_points_size() != shared_.values) ++stats_.bad_deltas;
    if (delta.curve_points_size() > 0 &&
        delta.curve_points(0).points_size() > 0) {
      const auto& first = delta.curve_points(0).points();
      const int64_t from = first.begin()->step();
      const int64_t to = first.rbegin()->step();
      if (to != seq) ++stats_.bad_deltas;
      if (from > last_step() + 1) stats_.gap_steps += from - last_step() - 1;
    }
    int64_t newest_sent = 0;
    for (const v1::SeriesAppend& append : delta.curve_points()) {
      stats_.points += append.points_size();
      if (!measured) continue;
      stats_.measured_points += append.points_size();
      for (const common::v1::CurvePoint& p : append.points()) {
        const int64_t step = p.step();
        if (step <= 0 || step >= shared_.max_step) continue;
        const int64_t sent = shared_.sent_ns[step].load();
        if (sent <= 0) continue;
        stats_.latency_ms.push_back((now_ns - sent) / 1e6);
        newest_sent = std::max(newest_sent, sent);
      }
    }
    if (newest_sent > 0)
      stats_.freshest_ms.push_back((now_ns - newest_sent) / 1e6);
    last_step_.store(std::max(last_step(), seq));
  }

  Shared& shared_;
  v1::MetricsService::Stub& stub_;
  v1::SubscribeJobRequest request_;
  grpc::ClientContext ctx_;
  v1::SubscribeJobResponse response_;
  bool started_ = false;
  int64_t last_message_ns_ = 0;
  std::atomic<int64_t> last_step_{0};
  SubscriberStats stats_;
};

// Streams spread over channels; opened, waited for, cancelled together.
class SubscriberSet {
 public:
  SubscriberSet(MetricsServer& server, Shared& shared, int channels)
      : server_(server), shared_(shared) {
    for (int c = 0; c < channels; ++c) {
      stubs_.push_back(v1::MetricsService::NewStub(server.NewChannel(c + 1)));
    }
  }
  ~SubscriberSet() { CancelAll(); }

  void Add(v1::SubscribeJobRequest request) {
    v1::MetricsService::Stub& stub = *stubs_[subs_.size() % stubs_.size()];
    subs_.push_back(std::make_unique<Subscriber>(shared_, stub,
                                                 std::move(request), server_));
  }
  void StartAll() {
    for (auto& s : subs_) s->Start();
  }
  // Until every stream got its first message (or ended), or `timeout`.
  bool WaitStarted(absl::Duration timeout) {
    const auto deadline =
        SteadyClock::now() + absl::ToChronoNanoseconds(timeout);
    while (shared_.started.load() < static_cast<int64_t>(subs_.size())) {
      if (SteadyClock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  // Cancels every stream and waits for every OnDone.
  void CancelAll() {
    if (cancelled_) return;
    cancelled_ = true;
    for (auto& s : subs_) s->Cancel();
    std::unique_lock<std::mutex> lock(shared_.mu);
    shared_.cv.wait(lock, [this] {
      return shared_.done == static_cast<int64_t>(subs_.size());
    });
  }
  std::vector<std::unique_ptr<Subscriber>>& subscribers() { return subs_; }
  size_t size() const { return subs_.size(); }

 private:
  MetricsServer& server_;
  Shared& shared_;
  std::vector<std::unique_ptr<v1::MetricsService::Stub>> stubs_;
  std::vector<std::unique_ptr<Subscriber>> subs_;
  bool cancelled_ = false;
};

struct Merged {
  SubscriberStats total;
  int64_t min_points = -1, max_points = 0;  // measured, per subscriber
};

Merged MergeStats(SubscriberSet& set) {
  Merged m;
  SubscriberStats& t = m.total;
  for (auto& sub : set.subscribers()) {
    const SubscriberStats& s = sub->stats();
    t.snapshots += s.snapshots;
    t.deltas += s.deltas;
    t.heartbeats += s.heartbeats;
    t.fell_behind += s.fell_behind;
    t.ends += s.ends;
    t.points += s.points;
    t.measured_points += s.measured_points;
    t.measured_deltas += s.measured_deltas;
    t.gap_steps += s.gap_steps;
    t.resnapshot_steps += s.resnapshot_steps;
    t.bad_deltas += s.bad_deltas;
    t.latency_ms.insert(t.latency_ms.end(), s.latency_ms.begin(),
                        s.latency_ms.end());
    t.freshest_ms.insert(t.freshest_ms.end(), s.freshest_ms.begin(),
                         s.freshest_ms.end());
    t.heartbeat_gap_s.insert(t.heartbeat_gap_s.end(), s.heartbeat_gap_s.begin(),
                             s.heartbeat_gap_s.end());
    m.min_points = m.min_points < 0 ? s.measured_points
                                    : std::min(m.min_points, s.measured_points);
    m.max_points = std::max(m.max_points, s.measured_points);
  }
  return m;
}

// ---------------------------------------------------------------------------
// --mode=fanout
// ---------------------------------------------------------------------------

// Sends IngestEvents at the flags' rate until stopped; records each step's
// send time in `shared`.
class Publisher {
 public:
  Publisher(const Flags& flags, MetricsServer& server, Shared& shared,
            std::string job, int64_t first_step)
      : flags_(flags),
        server_(server),
        shared_(shared),
        job_(std::move(job)),
        next_step_(first_step) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Publisher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Only after Stop.
  int64_t last_step() const { return next_step_ - 1; }
  int64_t late_calls() const { return late_; }
  const std::string& error() const { return error_; }
  const std::vector<double>& call_ms() const { return call_ms_; }
  int64_t events() const { return events_.load(); }

 private:
  void Run() {
    const RealClock clock;
    std::unique_ptr<v1::MetricsService::Stub> stub =
        v1::MetricsService::NewStub(server_.NewChannel(100000));
    const auto period = std::chrono::duration_cast<SteadyClock::duration>(
        std::chrono::duration<double>(flags_.events_per_call / flags_.rate));
    v1::IngestEventsRequest req;
    Pacer pacer(period);
    while (!stop_) {
      if (next_step_ + flags_.events_per_call >= shared_.max_step) {
        error_ = "ran out of steps (raise the capacity)";
        break;
      }
      req.clear_events();
      const google::protobuf::Timestamp now = ToProto(clock.Now());
      for (int64_t i = 0; i < flags_.events_per_call; ++i) {
        FillMetricsEvent(req.add_events(), job_, next_step_ + i,
                         static_cast<int>(flags_.values), now,
                         /*with_message=*/true);
      }
      const auto start = SteadyClock::now();
      const int64_t sent = shared_.NowNs();
      for (int64_t i = 0; i < flags_.events_per_call; ++i) {
        shared_.sent_ns[next_step_ + i].store(sent);
      }
      absl::StatusOr<int> accepted = Ingest(server_, *stub, req);
      const auto end = SteadyClock::now();
      if (!accepted.ok()) {
        if (error_.empty()) error_ = accepted.status().ToString();
        break;
      }
      if (shared_.phase.load() == kMeasure) {
        call_ms_.push_back(MillisBetween(start, end));
      }
      next_step_ += flags_.events_per_call;
      events_ += *accepted;
      if (!pacer.Wait()) ++late_;
    }
  }

  const Flags& flags_;
  MetricsServer& server_;
  Shared& shared_;
  const std::string job_;
  std::atomic<bool> stop_{false};
  int64_t next_step_;
  int64_t late_ = 0;
  std::atomic<int64_t> events_{0};
  std::string error_;
  std::vector<double> call_ms_;
  std::thread thread_;
};

int RunFanout(const Flags& flags, MetricsServer& server) {
  const std::string job = "fanout-1";
  const std::vector<std::string> series =
      MetricsSeriesNames(static_cast<int>(flags.values));
  const double points_per_s = flags.rate * flags.values;
  std::printf(
      "fanout: %lld subscribers of %s on %lld channels, min_update_interval "
      "%s, curve series = all %lld ingested, max_points %lld; publisher: %.1f "
      "METRICS events/s x %lld values = %.0f points/s in calls of %lld "
      "events; goal deliveries %.0f/s; warm-up %s, measured %s\n",
      static_cast<long long>(flags.subscribers), job.c_str(),
      static_cast<long long>(flags.channels),
      absl::FormatDuration(flags.interval).c_str(),
      static_cast<long long>(flags.values),
      static_cast<long long>(flags.max_points), flags.rate,
      static_cast<long long>(flags.values), points_per_s,
      static_cast<long long>(flags.events_per_call),
      points_per_s * flags.subscribers,
      absl::FormatDuration(flags.warmup).c_str(),
      absl::FormatDuration(flags.duration).c_str());

  Shared shared;
  shared.values = static_cast<int>(flags.values);
  shared.max_step =
      static_cast<int64_t>(
          flags.rate * absl::ToDoubleSeconds(flags.warmup + flags.duration) *
          2) +
      flags.events_per_call + 1000;
  shared.sent_ns = std::make_unique<std::atomic<int64_t>[]>(shared.max_step);
  for (int64_t i = 0; i < shared.max_step; ++i) shared.sent_ns[i] = 0;

  // The job exists once it has an event: step 1.
  {
    const RealClock clock;
    v1::IngestEventsRequest req;
    FillMetricsEvent(req.add_events(), job, 1, static_cast<int>(flags.values),
                     ToProto(clock.Now()), /*with_message=*/true);
    if (absl::StatusOr<int> a = Ingest(server, server.stub(), req); !a.ok()) {
      std::fprintf(stderr, "first event: %s\n", a.status().ToString().c_str());
      return 1;
    }
  }
  const int64_t rss_before = StatusKiB(server.pid(), "VmRSS");

  SubscriberSet set(server, shared, static_cast<int>(flags.channels));
  for (int64_t i = 0; i < flags.subscribers; ++i) {
    v1::SubscribeJobRequest req;
    req.set_job_id(job);
    for (const std::string& s : series) req.mutable_curve()->add_series(s);
    req.mutable_curve()->set_max_points(static_cast<int32_t>(flags.max_points));
    *req.mutable_min_update_interval() = ToProto(flags.interval);
    set.Add(std::move(req));
  }
  const auto open_start = SteadyClock::now();
  set.StartAll();
  if (!set.WaitStarted(absl::Seconds(120))) {
    std::fprintf(stderr, "only %lld of %lld streams started in 120 s\n",
                 static_cast<long long>(shared.started.load()),
                 static_cast<long long>(flags.subscribers));
    return 1;
  }
  const double open_s = SecondsSince(open_start);
  std::printf("subscribed: %lld streams got their snapshot in %.2f s\n",
              static_cast<long long>(flags.subscribers), open_s);

  Publisher publisher(flags, server, shared, job, 2);
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(flags.warmup));
  const int64_t events_start = publisher.events();
  Interval interval(server.pid());
  shared.phase = kMeasure;
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(flags.duration));
  shared.phase = kAfter;
  interval.Stop();
  const int64_t events_measured = publisher.events() - events_start;
  const int64_t rss_during = StatusKiB(server.pid(), "VmRSS");
  const int threads = ThreadCount(server.pid());
  publisher.Stop();
  const int64_t last = publisher.last_step();

  // Drain: every subscriber should reach the last step.
  const auto drain_start = SteadyClock::now();
  int64_t behind = 0;
  while (true) {
    behind = 0;
    for (auto& s : set.subscribers()) behind += s->last_step() < last ? 1 : 0;
    if (behind == 0 || SecondsSince(drain_start) > 30) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double drain_s = SecondsSince(drain_start);
  set.CancelAll();
  const Merged m = MergeStats(set);
  const SubscriberStats& t = m.total;

  if (!publisher.error().empty()) {
    std::printf("publisher error: %s\n", publisher.error().c_str());
  }
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    if (!shared.first_error.empty()) {
      std::printf("stream errors: %lld, first: %s\n",
                  static_cast<long long>(shared.failed),
                  shared.first_error.c_str());
    }
  }
  const double ingested_points_s =
      events_measured * flags.values / interval.wall();
  const double deliveries_s = t.measured_points / interval.wall();
  const Percentiles lat = Summarize(t.latency_ms);
  const Percentiles fresh = Summarize(t.freshest_ms);
  const Percentiles call = Summarize(publisher.call_ms());
  std::printf(
      "published: %.1f events/s = %.0f points/s (%lld late calls); "
      "IngestEvents %s\n",
      events_measured / interval.wall(), ingested_points_s,
      static_cast<long long>(publisher.late_calls()), Describe(call).c_str());
  std::printf(
      "deliveries: %.0f points/s to %lld subscribers (%.1f%% of published x "
      "subscribers); per subscriber %lld..%lld points in the interval; "
      "%.0f deltas/s (%.2f per subscriber per s, %.1f points each)\n",
      deliveries_s, static_cast<long long>(flags.subscribers),
      ingested_points_s > 0
          ? 100.0 * deliveries_s / (ingested_points_s * flags.subscribers)
          : 0.0,
      static_cast<long long>(m.min_points),
      static_cast<long long>(m.max_points), t.measured_deltas / interval.wall(),
      t.measured_deltas / interval.wall() / flags.subscribers,
      t.measured_deltas > 0
          ? static_cast<double>(t.measured_points) / t.measured_deltas
          : 0.0);
  std::printf("publish -> receive, every point delivered: %s\n",
              Describe(lat).c_str());
  std::printf("publish -> receive, newest point of each delta: %s\n",
              Describe(fresh).c_str());
  interval.Print("measured");
  std::printf(
      "server CPU per delta sent: %.1f us; per point delivered: %.2f us\n",
      t.measured_deltas > 0 ? interval.server_cpu() * 1e6 / t.measured_deltas
                            : 0.0,
      t.measured_points > 0 ? interval.server_cpu() * 1e6 / t.measured_points
                            : 0.0);
  std::printf(
      "generator CPU per point delivered: %.2f us; server threads %d; server "
      "RSS %.1f MiB before subscribing, %.1f MiB while publishing, peak "
      "%.1f MiB\n",
      t.measured_points > 0 ? interval.self_cpu() * 1e6 / t.measured_points
                            : 0.0,
      threads, MiB(rss_before), MiB(rss_during),
      MiB(StatusKiB(server.pid(), "VmHWM")));
  std::printf(
      "messages: %lld snapshots (%lld subscribers), %lld deltas, %lld "
      "heartbeats, %lld fell_behind, %lld end\n",
      static_cast<long long>(t.snapshots),
      static_cast<long long>(flags.subscribers),
      static_cast<long long>(t.deltas), static_cast<long long>(t.heartbeats),
      static_cast<long long>(t.fell_behind), static_cast<long long>(t.ends));
  std::printf(
      "completeness: last step %lld; %lld subscribers behind it after %.2f s "
      "of drain; steps never delivered (gaps between deltas) %lld; steps "
      "replaced by a new snapshot %lld; malformed deltas %lld%s\n",
      static_cast<long long>(last), static_cast<long long>(behind), drain_s,
      static_cast<long long>(t.gap_steps),
      static_cast<long long>(t.resnapshot_steps),
      static_cast<long long>(t.bad_deltas),
      behind == 0 && t.gap_steps == 0 && t.bad_deltas == 0
          ? ""
          : "  <-- POINTS MISSING");
  std::printf(
      "RESULT mode=fanout subscribers=%lld channels=%lld interval_ms=%.0f "
      "values=%lld rate=%.1f events_per_call=%lld published_points_s=%.0f "
      "deliveries_s=%.0f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f "
      "fresh_p50_ms=%.1f fresh_p99_ms=%.1f ingest_p99_ms=%.1f "
      "deltas_s=%.0f server_us_per_delta=%.1f gaps=%lld behind=%lld "
      "resnapshot_steps=%lld open_s=%.2f rss_mib=%.1f %s load1=%.2f\n",
      static_cast<long long>(flags.subscribers),
      static_cast<long long>(flags.channels),
      absl::ToDoubleMilliseconds(flags.interval),
      static_cast<long long>(flags.values), flags.rate,
      static_cast<long long>(flags.events_per_call), ingested_points_s,
      deliveries_s, lat.p50, lat.p90, lat.p99, lat.max, fresh.p50, fresh.p99,
      call.p99, t.measured_deltas / interval.wall(),
      t.measured_deltas > 0 ? interval.server_cpu() * 1e6 / t.measured_deltas
                            : 0.0,
      static_cast<long long>(t.gap_steps), static_cast<long long>(behind),
      static_cast<long long>(t.resnapshot_steps), open_s, MiB(rss_during),
      interval.Fields().c_str(), LoadAverage1());
  const bool ok = behind == 0 && t.gap_steps == 0 && t.bad_deltas == 0 &&
                  publisher.error().empty() && shared.failed == 0;
  return ok ? 0 : 1;
}

// ---------------------------------------------------------------------------
// --mode=idle
// ---------------------------------------------------------------------------

int RunIdle(const Flags& flags, MetricsServer& server) {
  const int64_t jobs = std::min(flags.jobs, flags.subscriptions);
  std::printf(
      "idle: %lld subscriptions on %lld %s over %lld channels (%lld streams "
      "per channel), default options (min_update_interval 1 s, curve "
      "train_loss + val_loss); every job has %lld METRICS event(s) of 8 "
      "values, then nothing for %s: heartbeats only\n",
      static_cast<long long>(flags.subscriptions), static_cast<long long>(jobs),
      jobs == 1 ? "job" : "distinct jobs",
      static_cast<long long>(flags.channels),
      static_cast<long long>((flags.subscriptions + flags.channels - 1) /
                             flags.channels),
      static_cast<long long>(flags.steps),
      absl::FormatDuration(flags.idle).c_str());
  auto job_name = [](int64_t j) { return absl::StrCat("idle-", j); };
  {
    const RealClock clock;
    v1::IngestEventsRequest req;
    // Step by step, each call with that step of up to 1,000 jobs.
    for (int64_t step = 1; step <= flags.steps; ++step) {
      for (int64_t first = 0; first < jobs; first += 1000) {
        req.clear_events();
        const google::protobuf::Timestamp now = ToProto(clock.Now());
        for (int64_t j = first; j < jobs && j < first + 1000; ++j) {
          FillMetricsEvent(req.add_events(), job_name(j), step, 8, now,
                           /*with_message=*/true);
        }
        if (absl::StatusOr<int> a = Ingest(server, server.stub(), req);
            !a.ok()) {
          std::fprintf(stderr, "preload: %s\n", a.status().ToString().c_str());
          return 1;
        }
      }
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const pid_t pid = server.pid();
  const int64_t rss_before = StatusKiB(pid, "VmRSS");
  const int threads_before = ThreadCount(pid);
  std::printf("server before subscribing: RSS %.1f MiB, %d threads\n",
              MiB(rss_before), threads_before);
  // The server's own idle cost with these jobs (stall checks, timers), to
  // tell the streams' share apart.
  Interval baseline(pid);
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(flags.baseline));
  baseline.Stop();
  std::printf(
      "server CPU with no stream open: %.1f ms per second (over %.0f s)\n",
      baseline.server_cores() * 1e3, baseline.wall());

  Shared shared;
  SubscriberSet set(server, shared, static_cast<int>(flags.channels));
  for (int64_t i = 0; i < flags.subscriptions; ++i) {
    v1::SubscribeJobRequest req;
    req.set_job_id(job_name(i % jobs));
    set.Add(std::move(req));
  }
  Interval opening(pid);
  set.StartAll();
  if (!set.WaitStarted(absl::Seconds(300))) {
    std::fprintf(stderr, "only %lld of %lld streams started in 300 s\n",
                 static_cast<long long>(shared.started.load()),
                 static_cast<long long>(flags.subscriptions));
    return 1;
  }
  opening.Stop();
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    if (shared.done > 0) {
      std::fprintf(stderr, "%lld streams ended early; first error: %s\n",
                   static_cast<long long>(shared.done),
                   shared.first_error.c_str());
      return 1;
    }
  }
  std::printf(
      "opened: %lld streams got their snapshot in %.2f s (%.0f/s); server "
      "CPU %.1f ms per subscription\n",
      static_cast<long long>(flags.subscriptions), opening.wall(),
      flags.subscriptions / opening.wall(),
      opening.server_cpu() * 1e3 / flags.subscriptions);
  opening.Print("opening");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int64_t rss_open = StatusKiB(pid, "VmRSS");
  std::printf(
      "server with the streams open: RSS %.1f MiB (%.1f KiB per "
      "stream), %d threads\n",
      MiB(rss_open),
      static_cast<double>(rss_open - rss_before) / flags.subscriptions,
      ThreadCount(pid));

  const int64_t hb_start = shared.heartbeats.load();
  const int64_t msg_start = shared.messages.load();
  Interval idle(pid);
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(flags.idle));
  idle.Stop();
  const int64_t heartbeats = shared.heartbeats.load() - hb_start;
  const int64_t others = shared.messages.load() - msg_start - heartbeats;
  const int64_t rss_idle = StatusKiB(pid, "VmRSS");
  const int64_t hwm = StatusKiB(pid, "VmHWM");
  const int threads_idle = ThreadCount(pid);
  const double expected_hb =
      flags.subscriptions * absl::ToDoubleSeconds(flags.idle) / 15.0;
  std::printf(
      "idle %.1f s: %lld heartbeats (%.0f/s; ~%.0f expected at one per "
      "stream per 15 s), %lld other messages\n",
      idle.wall(), static_cast<long long>(heartbeats), heartbeats / idle.wall(),
      expected_hb, static_cast<long long>(others));
  idle.Print("idle");
  std::printf(
      "server CPU while idle: %.1f ms per second (%.3f cores; %.1f ms/s "
      "more than with no stream), %.1f us per heartbeat; generator %.1f ms "
      "per second\n",
      idle.server_cores() * 1e3, idle.server_cores(),
      (idle.server_cores() - baseline.server_cores()) * 1e3,
      heartbeats > 0 ? idle.server_cpu() * 1e6 / heartbeats : 0.0,
      idle.generator_cores() * 1e3);
  std::printf(
      "server after the idle interval: RSS %.1f MiB, peak (VmHWM) %.1f MiB, "
      "%d threads\n",
      MiB(rss_idle), MiB(hwm), threads_idle);

  const auto close_start = SteadyClock::now();
  set.CancelAll();
  const double close_s = SecondsSince(close_start);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int64_t rss_closed = StatusKiB(pid, "VmRSS");
  const Merged m = MergeStats(set);
  // The API promises a heartbeat at least every 15 s when idle (common.proto).
  const Percentiles gaps = Summarize(m.total.heartbeat_gap_s);
  int64_t late_heartbeats = 0;
  for (double g : m.total.heartbeat_gap_s) late_heartbeats += g > 15.5 ? 1 : 0;
  std::printf(
      "silence before each heartbeat (since the stream's previous message), "
      "s: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f (n=%zu); %lld (%.1f%%) "
      "over 15.5 s\n",
      gaps.p50, gaps.p90, gaps.p99, gaps.max, gaps.n,
      static_cast<long long>(late_heartbeats),
      gaps.n > 0 ? 100.0 * late_heartbeats / gaps.n : 0.0);
  std::printf(
      "closed: all %lld streams cancelled and done in %.2f s; server RSS "
      "%.1f MiB 2 s later\n",
      static_cast<long long>(flags.subscriptions), close_s, MiB(rss_closed));
  int64_t failed;
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    failed = shared.failed;
    if (!shared.first_error.empty()) {
      std::printf("stream errors: %lld, first: %s\n",
                  static_cast<long long>(failed), shared.first_error.c_str());
    }
  }
  std::printf(
      "RESULT mode=idle subscriptions=%lld jobs=%lld steps=%lld channels=%lld "
      "open_s=%.2f rss_before_mib=%.1f rss_open_mib=%.1f rss_idle_mib=%.1f "
      "hwm_mib=%.1f rss_closed_mib=%.1f kib_per_stream=%.1f "
      "server_ms_per_s=%.1f baseline_ms_per_s=%.1f gen_ms_per_s=%.1f "
      "heartbeats_s=%.0f "
      "hb_silence_p50_s=%.2f hb_silence_max_s=%.2f late_hb_pct=%.1f "
      "server_threads=%d errors=%lld %s load1=%.2f\n",
      static_cast<long long>(flags.subscriptions), static_cast<long long>(jobs),
      static_cast<long long>(flags.steps),
      static_cast<long long>(flags.channels), opening.wall(), MiB(rss_before),
      MiB(rss_open), MiB(rss_idle), MiB(hwm), MiB(rss_closed),
      static_cast<double>(rss_open - rss_before) / flags.subscriptions,
      idle.server_cores() * 1e3, baseline.server_cores() * 1e3,
      idle.generator_cores() * 1e3, heartbeats / idle.wall(), gaps.p50,
      gaps.max, gaps.n > 0 ? 100.0 * late_heartbeats / gaps.n : 0.0,
      threads_idle, static_cast<long long>(failed), idle.Fields().c_str(),
      LoadAverage1());
  return failed == 0 && others == 0 ? 0 : 1;
}

int Run(int argc, char** argv) {
  Flags flags;
  return MetricsBenchMain(
      argc, argv, "subscribe_bench",
      [&](bool* help) { return ParseFlags(argc, argv, &flags, help); },
      flags.server,
      [&flags](MetricsServer& server) {
        return flags.mode == "fanout" ? RunFanout(flags, server)
                                      : RunIdle(flags, server);
      });
}

}  // namespace
}  // namespace trainyard::bench

int main(int argc, char** argv) { return trainyard::bench::Run(argc, argv); }
