// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/api/pods_api.h
// -----------------------------------------------------------------------------
// gpusim's REST API: a subset of RunPod's REST API for pods, plus admin
// routes for demos and tests, over common/http's HttpServer.
//
//   POST   /v2/pods                 create; 201 with the pod
//   GET    /v2/pods                 list (JSON array); ?status=RUNNING&name=x
//   GET    /v2/pods/{id}            one pod
//   POST   /v2/pods/{id}/stop       SIGTERM: checkpoint and exit; 200 with pod
//   DELETE /v2/pods/{id}            terminate; 204
//   POST   /admin/pods/{id}/faults  {"fail_at": "training:50", ...}; 200
//   POST   /admin/pods/{id}/interrupt  spot interruption now; 200
//   GET    /admin/stats             pods by status, webhook delivery, lag
//   GET    /healthz                 "ok" (no key needed)
//
// Create body (RunPod's field names): name, imageName (or image),
// gpuTypeIds (array; or gpuTypeId), gpuCount, interruptible, env (object of
// strings); other fields are accepted and ignored.
//
// Errors, all {"error": "...", "status": N[, "field": "..."]}:
//   400 bad body, naming the field    401 missing or wrong API key
//   404 unknown pod (or route)        409 the pod's state forbids it
//   429 over --max_pods               500 injected terminate failure
//
// Every route but /healthz needs "Authorization: Bearer <api key>" when
// keys are configured; keys are compared in constant time.
//
// Thread-safety: handlers run concurrently; the Cloud is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/http/message.h"
#include "common/http/server.h"
#include "tools/gpusim/cloud/cloud.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "tools/gpusim/sim/scheduler.h"

namespace trainyard::gpusim {

struct ApiOptions {
  // Accepted API keys; empty: no key needed (open, loopback only; main.cc
  // enforces that).
  std::vector<std::string> api_keys;
  // Simulated seconds per wall second, to report lag in wall time too.
  double time_scale = 1;
};

class PodsApi {
 public:
  // Every argument must outlive the API.
  PodsApi(Cloud& cloud, const WebhookSender& sender, const Scheduler& scheduler,
          ApiOptions options);

  // Adds the routes above to `server`. REQUIRES: before server.Start().
  void Register(http::HttpServer& server);

 private:
  http::HttpResponse CreatePod(const http::HttpRequest& request);
  http::HttpResponse ListPods(const http::HttpRequest& request);
  http::HttpResponse GetPod(const http::HttpRequest& request);
  http::HttpResponse StopPod(const http::HttpRequest& request);
  http::HttpResponse DeletePod(const http::HttpRequest& request);
  http::HttpResponse SetFaults(const http::HttpRequest& request);
  http::HttpResponse InterruptPod(const http::HttpRequest& request);
  http::HttpResponse Stats(const http::HttpRequest& request);
  bool Authorized(const http::HttpRequest& request) const;

  Cloud& cloud_;
  const WebhookSender& sender_;
  const Scheduler& scheduler_;
  const ApiOptions options_;
};

// The HTTP status for an error of the Cloud: kInvalidArgument 400,
// kUnauthenticated 401, kNotFound 404, kFailedPrecondition 409,
// kResourceExhausted 429, others 500. The answer names the field of a
// field violation.
http::HttpResponse ErrorAnswer(const absl::Status& status);

}  // namespace trainyard::gpusim
