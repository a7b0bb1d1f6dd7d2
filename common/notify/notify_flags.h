// Copyright 2026 Trainyard authors.
//
// The notification flags every service that notifies people takes, and the
// Notifier they describe (orchestration.md "Notifications"):
//   --notify_webhook_url   Slack-compatible incoming webhook (WebhookSink)
//   --notifications_file   JSONL file (JsonlFileSink; `make run` default)
//
//   notify::SinkFlags sinks;
//   notify::AddSinkFlags(flags, &sinks);
//   std::unique_ptr<notify::Notifier> notifier = notify::MakeNotifier(sinks);
#pragma once

#include <memory>
#include <string>

#include "common/config/flags.h"
#include "common/notify/notifier.h"

namespace trainyard::notify {

struct SinkFlags {
  // Empty: no default webhook.
  std::string webhook_url;
  // Empty: no file.
  std::string file;
};

// Adds --notify_webhook_url and --notifications_file.
void AddSinkFlags(config::FlagSet& flags, SinkFlags* sinks);

// A Notifier with a JSONL sink when `sinks.file` is set and a webhook sink
// when `sinks.webhook_url` is set or `webhook_destinations` (notifications
// that name their own webhook URL, such as promotion approvals); without
// sinks it delivers nowhere.
std::unique_ptr<Notifier> MakeNotifier(const SinkFlags& sinks,
                                       bool webhook_destinations = false);

}  // namespace trainyard::notify
