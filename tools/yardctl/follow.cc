// Copyright 2026 Trainyard authors.
#include "tools/yardctl/follow.h"

#include <cstdio>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/format.h"
#include "tools/yardctl/render.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::yardctl {
namespace {

namespace v1 = ::trainyard::common::v1;
using jobs::v1::JobService;
using metrics::v1::MetricsService;

// How long job-control may stay unreachable before following gives up.
constexpr absl::Duration kGiveUpAfter = absl::Minutes(2);

bool IsTerminal(v1::JobState s) {
  return s == v1::JOB_STATE_COMPLETED || s == v1::JOB_STATE_FAILED ||
         s == v1::JOB_STATE_CANCELLED;
}

bool IsTransient(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED;
}

class Follower {
 public:
  Follower(Cli& cli, std::string job_id, FollowOptions opts)
      : cli_(cli), job_id_(std::move(job_id)), opts_(opts) {}

  int Run() {
    {
      auto ctx = cli_.Context();
      jobs::v1::GetJobRequest req;
      req.set_job_id(job_id_);
      jobs::v1::GetJobResponse resp;
      grpc::Status s =
          JobService::NewStub(cli_.Jobs())->GetJob(ctx.get(), req, &resp);
      if (!s.ok()) return cli_.Fail("get " + job_id_, s);
      absl::MutexLock lock(&mu_);  // no other thread yet; for the analysis
      view_.job = resp.job();
      version_ = 1;
    }
    std::thread state([this] { FollowState(); });
    std::thread progress;
    if (opts_.progress) progress = std::thread([this] { FollowProgress(); });
    int code = Render();
    Stop();
    state.join();
    if (progress.joinable()) progress.join();
    return code;
  }

 private:
  // The main thread: draws on every change until the job is over.
  int Render() {
    uint64_t drawn = 0;
    size_t panel_height = 0;
    std::string last_line;
    v1::JobState last_state = v1::JOB_STATE_UNSPECIFIED;
    while (true) {
      JobView view;
      absl::Status error;
      uint64_t seen;
      {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(
                                 +[](Follower* f) {
                                   f->mu_.AssertHeld();
                                   return f->version_ != f->seen_ ||
                                          !f->error_.ok();
                                 },
                                 this),
                             absl::Seconds(1));
        seen = seen_ = version_;
        view = view_;
        error = error_;
      }
      if (!error.ok()) return cli_.Fail("follow " + job_id_, error);
      if (opts_.progress) FillCost(view.job);
      if (drawn == seen) continue;
      drawn = seen;
      v1::JobState state = view.job.state();
      if (opts_.progress && cli_.stdout_is_tty()) {
        std::vector<std::string> lines = PanelLines(view, true);
        std::string out;
        if (panel_height > 0) absl::StrAppend(&out, "\033[", panel_height, "A");
        for (const std::string& l : lines)
          absl::StrAppend(&out, "\r\033[2K", l, "\n");
        std::fputs(out.c_str(), stdout);
        std::fflush(stdout);
        panel_height = lines.size();
      } else if (opts_.progress) {
        std::string line = PlainLine(view);
        if (line != last_line) {
          std::printf("%s\n", line.c_str());
          std::fflush(stdout);
          last_line = line;
        }
      } else if (state != last_state) {
        std::fprintf(stderr, "%s %s%s%s\n", job_id_.c_str(),
                     StateName(state).c_str(),
                     view.job.state_message().empty() ? "" : ": ",
                     view.job.state_message().c_str());
      }
      last_state = state;
      if (IsTerminal(state)) return Finish(view.job);
      if (opts_.until && opts_.until(view.job)) return kExitOk;
    }
  }

  // Job-control's copy of the cost (Job.cost) is not filled yet on every
  // server: until it is, read the cost tracker from CostService, at most
  // every 5 s (and once more at the end), and show that.
  void FillCost(jobs::v1::Job& job) {
    if (job.cost().has_spend()) return;
    bool terminal = IsTerminal(job.state());
    if (absl::Now() - cost_read_ >= absl::Seconds(5) ||
        (terminal && !final_cost_read_)) {
      cost_read_ = absl::Now();
      final_cost_read_ = terminal;
      cost::v1::GetJobCostRequest req;
      req.set_job_id(job_id_);
      cost::v1::GetJobCostResponse resp;
      auto ctx = cli_.Context();
      if (cost::v1::CostService::NewStub(cli_.Cost())
              ->GetJobCost(ctx.get(), req, &resp)
              .ok()) {
        const v1::CostTracker& t = resp.cost();
        v1::CostSummary& c = cost_;
        *c.mutable_spend() = t.spend();
        *c.mutable_estimate() = t.estimate();
        *c.mutable_projected_final() = t.projected_final();
        c.set_level(t.level());
        c.set_final(t.final());
        absl::MutexLock lock(&mu_);
        ++version_;
      }
    }
    if (cost_.has_spend()) *job.mutable_cost() = cost_;
  }

  // The exit code of a finished job, with a line saying why on failure.
  int Finish(const jobs::v1::Job& job) {
    switch (job.state()) {
      case v1::JOB_STATE_COMPLETED:
        return kExitOk;
      case v1::JOB_STATE_FAILED: {
        std::string retry;
        for (int s : job.failure().retryable_from()) {
          absl::StrAppend(
              &retry, retry.empty() ? "" : "|",
              absl::AsciiStrToLower(StageName(static_cast<v1::Stage>(s))));
        }
        std::fprintf(
            stderr, "yardctl: job %s FAILED in stage %s: %s: %s%s\n",
            job.job_id().c_str(), StageName(job.failure().stage()).c_str(),
            job.failure().code().c_str(), job.failure().message().c_str(),
            retry.empty() ? ""
                          : absl::StrCat(" (yardctl retry ", job.job_id(),
                                         " --from-stage ", retry, ")")
                                .c_str());
        return kExitJobFailed;
      }
      default:
        std::fprintf(stderr, "yardctl: job %s CANCELLED\n",
                     job.job_id().c_str());
        return kExitJobCancelled;
    }
  }

  void Publish(const std::function<void(JobView&)>& change) {
    absl::MutexLock lock(&mu_);
    change(view_);
    ++version_;
  }

  void SetError(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (error_.ok()) error_ = std::move(status);
  }

  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (grpc::ClientContext* ctx : {watch_ctx_, subscribe_ctx_}) {
      if (ctx != nullptr) ctx->TryCancel();
    }
  }

  // Waits `d` unless stopping; returns whether to go on.
  bool Pause(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
    return !stopping_;
  }

  // Registers the context of the current stream so Stop can cancel it;
  // returns false when already stopping.
  bool Track(grpc::ClientContext** slot, grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    if (stopping_ && ctx != nullptr) return false;  // never left dangling
    *slot = ctx;
    return true;
  }

  // Job state and cost: WatchJobs for this job, resumed with its token when
  // the stream drops (a watcher that fell behind resumes at once). A
  // WatchReset (job-control restarted, or the token is too old) means the
  // changes in between are lost: the job is read again with GetJob.
  void FollowState() {
    auto stub = JobService::NewStub(cli_.Jobs());
    std::string token;
    absl::Time unreachable_since = absl::InfiniteFuture();
    absl::Duration backoff = absl::Milliseconds(200);
    while (true) {
      auto ctx = cli_.Context(/*stream=*/true);
      if (!Track(&watch_ctx_, ctx.get())) return;
      jobs::v1::WatchJobsRequest req;
      req.add_job_ids(job_id_);
      req.set_send_initial(token.empty());
      req.set_resume_token(token);
      auto reader = stub->WatchJobs(ctx.get(), req);
      jobs::v1::WatchJobsResponse resp;
      while (reader->Read(&resp)) {
        unreachable_since = absl::InfiniteFuture();
        backoff = absl::Milliseconds(200);
        if (!resp.resume_token().empty()) token = resp.resume_token();
        if (resp.has_change() && resp.change().job().job_id() == job_id_) {
          Publish([&](JobView& v) { v.job = resp.change().job(); });
        } else if (resp.has_reset()) {
          if (absl::Status s = Reload(*stub); !s.ok()) {
            ctx->TryCancel();
            reader->Finish();
            Track(&watch_ctx_, nullptr);  // Stop must not cancel a freed ctx
            return SetError(s);
          }
        }
      }
      grpc::Status s = reader->Finish();
      Track(&watch_ctx_, nullptr);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
          ErrorReason(FromGrpcStatus(s)) == "SUBSCRIBER_FELL_BEHIND") {
        continue;  // resume from the token now
      }
      if (!s.ok() && !IsTransient(s.error_code())) {
        return SetError(FromGrpcStatus(s));
      }
      if (!KeepTrying(unreachable_since, backoff, s)) return;
    }
  }

  // The job as job-control has it now.
  absl::Status Reload(JobService::Stub& stub) {
    auto ctx = cli_.Context();
    jobs::v1::GetJobRequest req;
    req.set_job_id(job_id_);
    jobs::v1::GetJobResponse resp;
    grpc::Status s = stub.GetJob(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpcStatus(s);
    Publish([&](JobView& v) { v.job = resp.job(); });
    return absl::OkStatus();
  }

  // After a transient failure: waits with backoff; gives up (error) after
  // kGiveUpAfter of unreachability or when stopping.
  bool KeepTrying(absl::Time& unreachable_since, absl::Duration& backoff,
                  const grpc::Status& s) {
    absl::Time now = absl::Now();
    if (unreachable_since == absl::InfiniteFuture()) unreachable_since = now;
    if (now - unreachable_since > kGiveUpAfter) {
      SetError(FromGrpcStatus(s));
      return false;
    }
    bool go_on = Pause(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
    return go_on;
  }

  // Progress, stages, metrics and curve: SubscribeJob, resumed with its token.
  // Not essential to the exit code: errors other than transient ones end it
  // with a note.
  void FollowProgress() {
    auto stub = MetricsService::NewStub(cli_.Metrics(job_id_));
    std::string token;
    absl::Duration backoff = absl::Milliseconds(200);
    while (true) {
      auto ctx = cli_.Context(/*stream=*/true);
      if (!Track(&subscribe_ctx_, ctx.get())) return;
      metrics::v1::SubscribeJobRequest req;
      req.set_job_id(job_id_);
      req.set_resume_token(token);
      req.mutable_min_update_interval()->set_seconds(cli_.stdout_is_tty() ? 1
                                                                          : 5);
      auto reader = stub->SubscribeJob(ctx.get(), req);
      metrics::v1::SubscribeJobResponse resp;
      while (reader->Read(&resp)) {
        backoff = absl::Milliseconds(200);
        if (!resp.resume_token().empty()) token = resp.resume_token();
        Publish([&](JobView& v) { Merge(resp, v); });
      }
      grpc::Status s = reader->Finish();
      Track(&subscribe_ctx_, nullptr);
      if (!s.ok() && !IsTransient(s.error_code()) &&
          s.error_code() != grpc::StatusCode::NOT_FOUND) {
        std::fprintf(stderr, "yardctl: progress unavailable: %s\n",
                     DescribeError("subscribe", FromGrpcStatus(s)).c_str());
        return;
      }
      // OK (the job ended for metrics, or we fell behind), a job metrics has
      // not heard of yet, or a transient error: resubscribe shortly.
      if (!Pause(backoff)) return;
      backoff = std::min(backoff * 2, absl::Seconds(2));
    }
  }

  static void Merge(const metrics::v1::SubscribeJobResponse& r, JobView& v) {
    auto take_metrics = [&v](const v1::CurrentMetrics& m) {
      if (m.has_train_loss() &&
          (!v.metrics.has_train_loss() ||
           m.train_loss().step() != v.metrics.train_loss().step())) {
        AddLossPoint(v, m.train_loss().value());
      }
      v.metrics = m;
    };
    if (r.has_snapshot()) {
      const auto& s = r.snapshot();
      v.progress = s.progress();
      v.stages = s.stages();
      v.recent_loss.clear();
      for (const auto& series : s.loss_curve().series()) {
        if (series.name() != "train_loss" || series.rolled_back()) continue;
        for (const auto& p : series.points()) AddLossPoint(v, p.value());
      }
      v.metrics = s.current_metrics();
    } else if (r.has_delta()) {
      const auto& d = r.delta();
      if (d.has_progress()) v.progress = d.progress();
      if (d.has_stages()) v.stages = d.stages();
      if (d.has_current_metrics()) take_metrics(d.current_metrics());
    } else if (r.has_end()) {
      v.progress = r.end().progress();
    }
  }

  Cli& cli_;
  const std::string job_id_;
  // FillCost's copy (render thread only).
  v1::CostSummary cost_;
  absl::Time cost_read_ = absl::InfinitePast();
  bool final_cost_read_ = false;
  const FollowOptions opts_;

  absl::Mutex mu_;
  JobView view_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seen_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* watch_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* subscribe_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace

int FollowJob(Cli& cli, const std::string& job_id, const FollowOptions& opts) {
  return Follower(cli, job_id, opts).Run();
}

void AddFollowCommands(std::vector<Command>& out) {
  out.push_back(
      {"watch",
       "follow a job live until it ends (panel on a terminal, lines in logs)",
       "yardctl watch JOB_ID\nyardctl watch JOB_ID | tee job.log   # one "
       "line per change\nExits like submit --wait: 0 completed, 1 failed, 2 "
       "cancelled.",
       [](Args&) -> std::function<int(Cli&, const Args&)> {
         return [](Cli& cli, const Args& args) {
           if (args.positional().size() != 1) {
             return cli.Usage("watch needs one JOB_ID");
           }
           return FollowJob(cli, args.positional()[0], FollowOptions{});
         };
       }});
}

}  // namespace trainyard::yardctl
