// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/api/pod_json.h
// -----------------------------------------------------------------------------
// The JSON gpusim answers with: pods in RunPod's REST shape (field names and
// status values of its Pod object) plus gpusim's own fields, and errors as
// {"error": "...", "status": 400, "field": "gpuCount"}.
//
// A pod:
//   {"id": "xedezhzb9la3ye", "name": "job-7f3a", "image": "...",
//    "imageName": "...", "desiredStatus": "RUNNING", "status": "RUNNING",
//    "costPerHr": 2.49, "adjustedCostPerHr": 2.49, "gpuCount": 1,
//    "gpuTypeId": "NVIDIA H100 80GB HBM3",
//    "gpu": {"id": "...", "count": 1, "displayName": "H100 SXM",
//            "memoryInGb": 80},
//    "interruptible": true, "machineId": "gpusim", "env": {...},
//    "createdAt": "...", "lastStartedAt": "...", "lastStatusChange": "...",
//    "exitedAt": "...", "terminatedAt": "...",
//    "exitReason": "completed|failed|interrupted|stopped",
//    "exitMessage": "...",
//    "simulation": {"stage": "training", "step": 850, "totalSteps": 2000,
//                   "epoch": 2, "attempt": 1, "lastCheckpointStep": 800,
//                   "events": 912, "webhooksPending": 0, "stalled": false}}
// Times are RFC 3339 UTC; absent ones are left out. Env values whose names
// end in _SECRET, _TOKEN, _KEY or _PASSWORD are shown as "<redacted>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "tools/gpusim/cloud/cloud.h"

namespace trainyard::gpusim {

std::string PodJson(const PodView& pod);
// A JSON array of pods, as RunPod's GET /pods answers.
std::string PodListJson(const std::vector<PodView>& pods);

// {"error": message, "status": status[, "field": field]}.
http::HttpResponse ApiError(int status, std::string_view message,
                            std::string_view field = {});

// A 200 (or `status`) answer with a JSON body.
http::HttpResponse JsonAnswer(std::string body, int status = 200);

}  // namespace trainyard::gpusim
