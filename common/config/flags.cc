// Copyright 2026 Trainyard authors.
#include "common/config/flags.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/strings/absl_view.h"

namespace trainyard::config {
namespace {

absl::Status Bad(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", ToAbsl(name), ": ", ToAbsl(what)));
}

}  // namespace

FlagSet::Flag& FlagSet::Flag::Range(double lo, double hi) {
  lo_ = lo;
  hi_ = hi;
  has_range_ = true;
  return *this;
}

FlagSet::FlagSet(std::string program) : program_(std::move(program)) {}

FlagSet::Flag& FlagSet::AddCustom(
    std::string name, std::string help, std::string default_text,
    std::function<absl::Status(std::string_view)> parse) {
  if (Find(name) != nullptr) {
    std::cerr << "flag --" << name << " declared twice\n";
    std::abort();
  }
  auto flag = std::make_unique<Flag>();
  flag->name_ = std::move(name);
  flag->help_ = std::move(help);
  flag->default_text_ = std::move(default_text);
  flag->set_ = std::move(parse);
  flags_.push_back(std::move(flag));
  return *flags_.back();
}

FlagSet::Flag& FlagSet::AddString(std::string name, std::string help,
                                  std::string* out) {
  return AddCustom(std::move(name), std::move(help), *out,
                   [out](std::string_view v) {
                     *out = std::string(v);
                     return absl::OkStatus();
                   });
}

FlagSet::Flag& FlagSet::AddInt(std::string name, std::string help,
                               int64_t* out) {
  Flag& f = AddCustom(std::move(name), std::move(help), absl::StrCat(*out),
                      [out](std::string_view v) {
                        if (!absl::SimpleAtoi(ToAbsl(v), out)) {
                          return absl::InvalidArgumentError(absl::StrCat(
                              "\"", ToAbsl(v), "\" is not an integer"));
                        }
                        return absl::OkStatus();
                      });
  f.numeric_ = [out] { return static_cast<double>(*out); };
  return f;
}

FlagSet::Flag& FlagSet::AddDouble(std::string name, std::string help,
                                  double* out) {
  Flag& f = AddCustom(std::move(name), std::move(help), absl::StrCat(*out),
                      [out](std::string_view v) {
                        if (!absl::SimpleAtod(ToAbsl(v), out)) {
                          return absl::InvalidArgumentError(absl::StrCat(
                              "\"", ToAbsl(v), "\" is not a number"));
                        }
                        return absl::OkStatus();
                      });
  f.numeric_ = [out] { return *out; };
  return f;
}

FlagSet::Flag& FlagSet::AddBool(std::string name, std::string help, bool* out) {
  Flag& f =
      AddCustom(std::move(name), std::move(help), *out ? "true" : "false",
                [out](std::string_view v) {
                  if (!absl::SimpleAtob(ToAbsl(v), out)) {
                    return absl::InvalidArgumentError(absl::StrCat(
                        "\"", ToAbsl(v), "\" is not a boolean (true/false)"));
                  }
                  return absl::OkStatus();
                });
  f.is_bool_ = true;
  return f;
}

FlagSet::Flag& FlagSet::AddDuration(std::string name, std::string help,
                                    absl::Duration* out) {
  Flag& f = AddCustom(
      std::move(name), std::move(help), absl::FormatDuration(*out),
      [out](std::string_view v) {
        absl::Duration d;
        if (!absl::ParseDuration(ToAbsl(v), &d)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", ToAbsl(v), "\" is not a duration (e.g. 30s, 5m, 250ms)"));
        }
        *out = d;
        return absl::OkStatus();
      });
  f.numeric_ = [out] { return absl::ToDoubleSeconds(*out); };
  return f;
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (auto& f : flags_) {
    if (f->name_ == name) return f.get();
  }
  return nullptr;
}

absl::Status FlagSet::Set(std::string_view name, std::string_view value,
                          bool has_value) {
  Flag* flag = Find(name);
  if (flag == nullptr && absl::StartsWith(ToAbsl(name), "no")) {
    Flag* negated = Find(name.substr(2));
    if (negated != nullptr && negated->is_bool_ && !has_value) {
      return negated->set_("false");
    }
  }
  if (flag == nullptr) return Bad(name, "unknown setting (see --help)");
  if (!has_value) {
    if (!flag->is_bool_) return Bad(name, "needs a value");
    value = "true";
  }
  if (absl::Status s = flag->set_(value); !s.ok()) {
    return Bad(name, ToStd(s.message()));
  }
  if (flag->has_range_ && flag->numeric_) {
    double v = flag->numeric_();
    if (v < flag->lo_ || v > flag->hi_) {
      return Bad(name, absl::StrCat(ToAbsl(value), " is out of range [",
                                    flag->lo_, ", ", flag->hi_, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status FlagSet::ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Bad("config", absl::StrCat("cannot read \"", path, "\""));
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view text = ToStd(absl::StripAsciiWhitespace(line));
    if (text.empty() || text[0] == '#') continue;
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      return Bad("config",
                 absl::StrCat(path, ":", line_no, ": expected `name = value`"));
    }
    std::string_view name =
        ToStd(absl::StripAsciiWhitespace(ToAbsl(text.substr(0, eq))));
    std::string_view value =
        ToStd(absl::StripAsciiWhitespace(ToAbsl(text.substr(eq + 1))));
    if (absl::Status s = Set(name, value, true); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.message(), " (", path, ":", line_no, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status FlagSet::ParseArgs(const std::vector<std::string>& args) {
  struct Item {
    std::string name, value;
    bool has_value;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.starts_with("--")) {
      arg.remove_prefix(2);
    } else if (arg.starts_with("-")) {
      arg.remove_prefix(1);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", ToAbsl(arg),
                       "\" (settings are --name=value)"));
    }
    Item item{std::string(arg), "", false};
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      item = {std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)),
              true};
    } else if (Flag* f = Find(arg);
               f != nullptr && !f->is_bool_ && i + 1 < args.size()) {
      item.value = args[++i];
      item.has_value = true;
    }
    if (item.name == "help") {
      help_requested_ = true;
      continue;
    }
    items.push_back(std::move(item));
  }
  // The file first, so that the command line wins.
  for (const Item& item : items) {
    if (item.name == "config") {
      if (!item.has_value) return Bad("config", "needs a file path");
      if (absl::Status s = ReadFile(item.value); !s.ok()) return s;
    }
  }
  for (const Item& item : items) {
    if (item.name == "config") continue;
    if (absl::Status s = Set(item.name, item.value, item.has_value); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(int argc, const char* const* argv) {
  return ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
}

std::string FlagSet::Usage() const {
  std::ostringstream out;
  out << "usage: " << program_ << " [--config=FILE] [--name=value ...]\n";
  for (const auto& f : flags_) {
    out << "  --" << f->name_ << " (default: \"" << f->default_text_ << "\")\n"
        << "      " << f->help_ << "\n";
  }
  return out.str();
}

}  // namespace trainyard::config
