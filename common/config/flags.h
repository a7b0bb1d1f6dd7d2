// Copyright 2026 Trainyard authors.
//
// Typed settings: each service declares its settings once, bound to the fields
// of its own config struct, then parses the command line (and an optional
// config file) into it. A bad value stops the start with a message naming the
// setting:   --grpc_port: "abc" is not an integer
//
//   ServiceConfig config;
//   FlagSet flags("trainyard-jobs");
//   flags.AddString("data_dir", "RocksDB directory", &config.data_dir);
//   flags.AddInt("concurrency", "slots", &config.slots).Range(1, 64);
//   RETURN_IF_ERROR(flags.Parse(argc, argv));
//
// Syntax: --name=value, --name value, --bool_flag / --nobool_flag. The special
// setting --config=<file> reads `name = value` lines ('#' comments) first;
// the command line wins over the file. --help sets help_requested().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace trainyard::config {

class FlagSet {
 public:
  // A declared setting; lets the caller add a numeric range.
  class Flag {
   public:
    // Values outside [lo, hi] are rejected at parse time.
    Flag& Range(double lo, double hi);

   private:
    friend class FlagSet;
    std::string name_;
    std::string help_;
    std::string default_text_;
    bool is_bool_ = false;
    std::function<absl::Status(std::string_view)> set_;
    std::function<double()> numeric_;  // set for numeric flags
    double lo_ = 0, hi_ = 0;
    bool has_range_ = false;
  };

  explicit FlagSet(std::string program);

  // Each Add binds `out`, which must outlive Parse; its current value is the
  // default. Names are unique (a duplicate is a programming error: aborts).
  Flag& AddString(std::string name, std::string help, std::string* out);
  Flag& AddInt(std::string name, std::string help, int64_t* out);
  Flag& AddDouble(std::string name, std::string help, double* out);
  Flag& AddBool(std::string name, std::string help, bool* out);
  // Durations as "30s", "5m", "1h30m", "250ms".
  Flag& AddDuration(std::string name, std::string help, absl::Duration* out);
  // Any other type: `parse` converts the text, naming the problem on failure.
  Flag& AddCustom(std::string name, std::string help, std::string default_text,
                  std::function<absl::Status(std::string_view)> parse);

  // Parses argv[1..]. Errors are kInvalidArgument and start with "--<name>: ".
  // Positional arguments are an error.
  absl::Status Parse(int argc, const char* const* argv);
  absl::Status ParseArgs(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  // One line per setting with its default and help.
  std::string Usage() const;

 private:
  Flag* Find(std::string_view name);
  absl::Status Set(std::string_view name, std::string_view value,
                   bool has_value);
  absl::Status ReadFile(const std::string& path);

  std::string program_;
  std::vector<std::unique_ptr<Flag>> flags_;
  bool help_requested_ = false;
};

}  // namespace trainyard::config
