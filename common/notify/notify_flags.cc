// Copyright 2026 Trainyard authors.
#include "common/notify/notify_flags.h"

#include <utility>
#include <vector>

#include "common/notify/sinks.h"

namespace trainyard::notify {

void AddSinkFlags(config::FlagSet& flags, SinkFlags* sinks) {
  flags.AddString("notify_webhook_url",
                  "Slack-compatible incoming webhook notifications are posted "
                  "to; empty: none",
                  &sinks->webhook_url);
  flags.AddString("notifications_file",
                  "JSONL file every notification is appended to; empty: none",
                  &sinks->file);
}

std::unique_ptr<Notifier> MakeNotifier(const SinkFlags& sinks,
                                       bool webhook_destinations) {
  std::vector<std::unique_ptr<Sink>> out;
  if (!sinks.webhook_url.empty() || webhook_destinations) {
    out.push_back(std::make_unique<WebhookSink>(sinks.webhook_url));
  }
  if (!sinks.file.empty()) {
    out.push_back(std::make_unique<JsonlFileSink>(sinks.file));
  }
  return std::make_unique<Notifier>(std::move(out));
}

}  // namespace trainyard::notify
