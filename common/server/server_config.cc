// Copyright 2026 Trainyard authors.
#include "common/server/server_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging/logger.h"
#include "common/strings/absl_view.h"
#include "common/time/clock.h"

namespace trainyard::server {

void AddServerFlags(config::FlagSet& flags, ServerConfig* c) {
  flags.AddString("grpc_address",
                  "gRPC listen address (host:port; port 0 = any free)",
                  &c->grpc_address);
  flags.AddString("admin_address",
                  "admin HTTP listen address: /metrics, /healthz, /readyz",
                  &c->admin_address);
  flags.AddString("data_dir", "RocksDB directory of this service",
                  &c->data_dir);
  flags.AddString("ports_file",
                  "write \"<grpc_port> <admin_port>\" here once listening",
                  &c->ports_file);
  flags.AddString("checkpoint_dir",
                  "where POST /admin/checkpoint writes RocksDB checkpoints "
                  "(same file system as --data_dir); empty: disabled",
                  &c->checkpoint_dir);
  flags.AddString("tokens_file",
                  "bearer tokens file (`<token> <user> <role>` lines); empty: "
                  "open mode, loopback only",
                  &c->tokens_file);
  flags.AddString("tls_cert_file", "PEM server certificate (enables TLS)",
                  &c->tls_cert_file);
  flags.AddString("tls_key_file", "PEM private key of --tls_cert_file",
                  &c->tls_key_file);
  flags.AddString("tls_client_ca_file",
                  "PEM CA of client certificates (enables mTLS)",
                  &c->tls_client_ca_file);
  flags
      .AddInt("max_message_bytes", "largest gRPC message accepted or sent",
              &c->max_message_bytes)
      .Range(1024, 1 << 30);
  flags.AddDuration("keepalive_time", "HTTP/2 keepalive ping interval",
                    &c->keepalive_time);
  flags.AddDuration("keepalive_timeout", "keepalive ping ack timeout",
                    &c->keepalive_timeout);
  flags.AddDuration("unary_timeout",
                    "bound on unary calls that carry no deadline",
                    &c->unary_timeout);
  flags.AddDuration("drain_timeout",
                    "on SIGTERM/SIGINT, time given to in-flight calls",
                    &c->drain_timeout);
  flags
      .AddInt("rpc_threads", "worker threads for unary handlers",
              &c->rpc_threads)
      .Range(1, 256);
  flags
      .AddInt("bulk_threads", "worker threads for bulk handlers (batch ingest)",
              &c->bulk_threads)
      .Range(1, 256);
  flags
      .AddInt("bulk_nice",
              "CPU niceness of the bulk threads (0 = same as the rest)",
              &c->bulk_nice)
      .Range(0, 19);
  process::AddProcessFlags(flags, &c->process);
  flags.AddBool("log_requests", "log one line per RPC", &c->log_requests);
  flags.AddBool("sync_writes", "fsync acknowledged writes (group commit)",
                &c->sync_writes);
  flags
      .AddInt("storage_memory_bytes",
              "RocksDB memory budget: block cache with memtables charged to it",
              &c->storage_memory_bytes)
      .Range(2 << 20, int64_t{1} << 40);
  flags
      .AddInt("memtable_bytes",
              "memtable budget across column families (< storage_memory_bytes)",
              &c->memtable_bytes)
      .Range(1 << 20, int64_t{1} << 40);
  flags
      .AddInt("storage_reserve_bytes",
              "refuse writes (STORAGE_FULL) while the data disk has less "
              "free space, before it is completely full; 0: off",
              &c->storage_reserve_bytes)
      .Range(0, int64_t{1} << 50);
}

bool IsLoopbackAddress(std::string_view host_port) {
  std::string_view host = host_port;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

absl::Status ValidateServerConfig(const ServerConfig& c) {
  auto bad = [](std::string_view name, std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", ToAbsl(name), ": ", ToAbsl(why)));
  };
  if (c.grpc_address.empty()) return bad("grpc_address", "must be set");
  if (c.admin_address.empty()) return bad("admin_address", "must be set");
  if (c.data_dir.empty()) return bad("data_dir", "must be set");
  if (c.tokens_file.empty() && (!IsLoopbackAddress(c.grpc_address) ||
                                !IsLoopbackAddress(c.admin_address))) {
    return bad("tokens_file",
               "required when listening beyond loopback (open mode admits "
               "every caller as admin)");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return bad(c.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
               "TLS needs both --tls_cert_file and --tls_key_file");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return bad("tls_client_ca_file", "mTLS needs --tls_cert_file too");
  }
  if (c.memtable_bytes >= c.storage_memory_bytes) {
    return bad("memtable_bytes", "must be less than --storage_memory_bytes");
  }
  if (c.unary_timeout <= absl::ZeroDuration()) {
    return bad("unary_timeout", "must be positive");
  }
  if (c.drain_timeout < absl::ZeroDuration()) {
    return bad("drain_timeout", "must not be negative");
  }
  return process::ValidateProcessFlags(c.process);
}

}  // namespace trainyard::server
