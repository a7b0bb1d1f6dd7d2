// Copyright 2026 Trainyard authors.
//
// The settings every service shares, declared once. A service adds its own
// settings beside these (see run_service.h).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/config/flags.h"
#include "common/process/process_flags.h"

namespace trainyard::server {

struct ServerConfig {
  std::string grpc_address;   // host:port; port 0 picks a free one
  std::string admin_address;  // /metrics, /healthz, /readyz (+ service routes)
  std::string data_dir;       // this service's RocksDB directory
  // When set, "<grpc_port> <admin_port>\n" is written here once both ports
  // are bound (for supervisors and tests that listen on port 0).
  std::string ports_file;
  // POST /admin/checkpoint writes RocksDB checkpoints here, one directory
  // each (hard links when on data_dir's file system); empty: disabled.
  std::string checkpoint_dir;

  // Auth: without a tokens file every caller is admin ("open"), which is only
  // allowed on loopback addresses.
  std::string tokens_file;
  // TLS when cert and key are set; mTLS (client certificates required and
  // verified) when a client CA is set too.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;

  int64_t max_message_bytes = 4 << 20;
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Answers to unary calls that carry no deadline are bounded by this (never
  // server streams: subscriptions live for hours).
  absl::Duration unary_timeout = absl::Seconds(30);
  // On SIGTERM/SIGINT: in-flight calls get this long, then are cancelled.
  absl::Duration drain_timeout = absl::Seconds(10);
  int64_t rpc_threads = 8;
  // Bulk-lane handlers (Rpc::Lane::kBulk: batch ingest) run on their own
  // threads at this CPU niceness, so that interactive queries keep their
  // latency while bulk work takes whatever CPU is left.
  int64_t bulk_threads = 2;
  int64_t bulk_nice = 10;

  // Logging and the suite clock (--log_format, --log_level, --time_scale,
  // --time_origin), as every process of the suite has them.
  process::ProcessFlags process;
  bool log_requests = true;

  // fsync each acknowledged write (group commit) for machine-crash durability.
  bool sync_writes = false;
  // RocksDB memory: one block cache that memtables are charged to, so this
  // bounds blocks + memtables + index/filter blocks together.
  int64_t storage_memory_bytes = 128 << 20;
  int64_t memtable_bytes = 32 << 20;  // flush memtables past this
  // Writes answer STORAGE_FULL while the data disk has less free space.
  int64_t storage_reserve_bytes = 256 << 20;
};

// Declares the shared settings in `flags`, bound to `config` (whose current
// values are the defaults).
void AddServerFlags(config::FlagSet& flags, ServerConfig* config);

// Checks what one setting alone cannot: e.g. open auth off loopback, a TLS
// key without a certificate. Errors name the setting.
absl::Status ValidateServerConfig(const ServerConfig& config);

// True for 127.0.0.0/8, ::1, localhost (with or without a port).
bool IsLoopbackAddress(std::string_view host_port);

}  // namespace trainyard::server
