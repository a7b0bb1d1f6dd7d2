// Copyright 2026 Trainyard authors.
#include "tools/gpusim/delivery/webhook_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace trainyard::gpusim {

WebhookSender::WebhookSender(const Clock& clock, const Clock& wall_clock,
                             Scheduler& scheduler, WebhookTransport& transport,
                             SenderOptions options)
    : clock_(clock),
      wall_clock_(wall_clock),
      scheduler_(scheduler),
      transport_(transport),
      options_(options),
      rng_(options.seed) {}

WebhookSender::~WebhookSender() { Stop(); }

void WebhookSender::Start() {
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { Worker(); });
  }
}

void WebhookSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

WebhookSender::OutboxId WebhookSender::Open(std::string url,
                                            webhook::Secret secret,
                                            std::function<void()> on_drained) {
  absl::MutexLock lock(&mu_);
  OutboxId id = next_id_++;
  outboxes_.emplace(id, Outbox{.url = std::move(url),
                               .secret = std::move(secret),
                               .on_drained = std::move(on_drained)});
  return id;
}

void WebhookSender::Enqueue(OutboxId id, std::string webhook_id,
                            std::string body, absl::Time event_time) {
  absl::MutexLock lock(&mu_);
  auto it = outboxes_.find(id);
  if (it == outboxes_.end()) return;
  Outbox& o = it->second;
  o.items.push_back(Item{.webhook_id = std::move(webhook_id),
                         .body = std::move(body),
                         .event_time = event_time});
  ++stats_.enqueued;
  ++stats_.queued;
  if (o.state == State::kIdle) {
    o.state = State::kReady;
    ready_.push_back(id);
  }
}

void WebhookSender::Close(OutboxId id) {
  absl::MutexLock lock(&mu_);
  auto it = outboxes_.find(id);
  if (it == outboxes_.end()) return;
  int64_t n = static_cast<int64_t>(it->second.items.size());
  stats_.dropped += n;
  stats_.queued -= n;
  outboxes_.erase(it);
}

size_t WebhookSender::Pending(OutboxId id) const {
  absl::MutexLock lock(&mu_);
  auto it = outboxes_.find(id);
  return it == outboxes_.end() ? 0 : it->second.items.size();
}

std::vector<Delivery> WebhookSender::Queued(OutboxId id) const {
  absl::MutexLock lock(&mu_);
  std::vector<Delivery> out;
  auto it = outboxes_.find(id);
  if (it == outboxes_.end()) return out;
  for (const Item& item : it->second.items) {
    out.push_back({.webhook_id = item.webhook_id,
                   .body = item.body,
                   .event_time = item.event_time});
  }
  return out;
}

SenderStats WebhookSender::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool WebhookSender::Idle() const {
  return ready_.empty() && in_flight_ == 0 && callbacks_running_ == 0;
}

bool WebhookSender::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(this, &WebhookSender::Idle),
                              timeout);
}

void WebhookSender::Retry(OutboxId id) {
  absl::MutexLock lock(&mu_);
  auto it = outboxes_.find(id);
  if (it == outboxes_.end() || it->second.state != State::kWaiting) return;
  it->second.state = State::kReady;
  ready_.push_back(id);
}

void WebhookSender::Worker() {
  auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !ready_.empty();
  };
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(&has_work));
    if (stopping_) return;
    OutboxId id = ready_.front();
    ready_.pop_front();
    auto it = outboxes_.find(id);
    if (it == outboxes_.end() || it->second.items.empty()) continue;
    Outbox& o = it->second;
    o.state = State::kInFlight;
    ++in_flight_;
    Item& front = o.items.front();
    std::string url = o.url;
    webhook::Secret secret = o.secret;
    std::string webhook_id = front.webhook_id;
    std::string body = front.body;

    mu_.Unlock();
    absl::Time sent = clock_.Now();
    int64_t timestamp = absl::ToUnixSeconds(wall_clock_.Now());
    http::HttpHeaders headers = {
        {"webhook-id", webhook_id},
        {"webhook-timestamp", absl::StrCat(timestamp)},
        {"webhook-signature",
         webhook::Sign(secret, webhook_id, timestamp, body)}};
    absl::StatusOr<http::HttpResponse> answer =
        transport_.Post(url, headers, body);
    absl::Time now = clock_.Now();
    mu_.Lock();

    --in_flight_;
    ++stats_.attempts;
    it = outboxes_.find(id);
    if (it == outboxes_.end()) continue;  // closed meanwhile; counted there
    Outbox& box = it->second;
    Item& item = box.items.front();
    if (item.first_attempt == absl::InfiniteFuture()) item.first_attempt = sent;
    bool done = false;
    if (answer.ok() && answer->status >= 200 && answer->status < 300) {
      ++stats_.delivered;
      stats_.delivery_lag.Add(now - item.event_time);
      done = true;
    } else if (answer.ok() && !IsRetryableStatus(answer->status)) {
      ++stats_.rejected;
      done = true;
    } else if (now - item.first_attempt >= options_.backoff.give_up_after) {
      ++stats_.dropped;
      done = true;
    }
    if (done) {
      box.items.pop_front();
      --stats_.queued;
      if (!box.items.empty()) {
        box.state = State::kReady;
        ready_.push_back(id);
        continue;
      }
      box.state = State::kIdle;
      if (box.on_drained) {
        std::function<void()> callback = box.on_drained;
        ++callbacks_running_;
        mu_.Unlock();
        callback();
        mu_.Lock();
        --callbacks_running_;
      }
      continue;
    }
    // Retry later.
    ++stats_.retries;
    if (!answer.ok()) ++stats_.connection_errors;
    std::optional<absl::Duration> retry_after;
    if (answer.ok()) {
      if (const std::string* v = answer->FindHeader("Retry-After")) {
        retry_after = ParseRetryAfter(*v);
      }
    }
    absl::Duration delay =
        RetryDelay(options_.backoff, ++item.failures, retry_after, rng_);
    box.state = State::kWaiting;
    scheduler_.At(now + delay, [this, id] { Retry(id); });
  }
}

}  // namespace trainyard::gpusim
