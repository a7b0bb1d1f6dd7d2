// Copyright 2026 Trainyard authors.
//
// The two notification sinks: a Slack-compatible incoming webhook and a JSONL
// file (the `make run` default, var/dev/notifications.jsonl).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/http/client.h"
#include "common/notify/notifier.h"

namespace trainyard::notify {

// POSTs {"text": "..."} (Slack's incoming-webhook body) to the notification's
// destination when it is an http(s) URL, else to `default_url`. 2xx is
// delivered; 429, 5xx and network errors are transient (retried by the
// Notifier); other statuses are final.
class WebhookSink final : public Sink {
 public:
  explicit WebhookSink(std::string default_url,
                       http::HttpClientOptions options = {});
  std::string_view name() const override { return "webhook"; }
  absl::Status Deliver(const Notification& notification) override;

 private:
  http::HttpClient& ClientFor(const std::string& origin);

  const std::string default_url_;
  const http::HttpClientOptions options_;
  // One kept-alive client per origin used (few: the default's and the
  // users' own).
  absl::flat_hash_map<std::string, std::unique_ptr<http::HttpClient>> clients_;
};

// Appends one JSON object per line: time (RFC 3339), kind, job_id,
// recipient, text, destination, and id when set. kUnavailable when the file
// cannot be written (retried).
class JsonlFileSink final : public Sink {
 public:
  explicit JsonlFileSink(std::string path);
  std::string_view name() const override { return "jsonl"; }
  absl::Status Deliver(const Notification& notification) override;

 private:
  const std::string path_;
};

// {"text": ...} for a Slack incoming webhook.
std::string SlackBody(const Notification& notification);
// One JSONL line (without the newline).
std::string JsonLine(const Notification& notification);

}  // namespace trainyard::notify
