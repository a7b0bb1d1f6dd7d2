// Copyright 2026 Trainyard authors.
//
// yardctl: the command-line client of Trainyard (orchestration.md "yardctl").
// Wiring only: picks the command, parses its arguments, runs it.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/yardctl/command.h"
#include "tools/yardctl/completion.h"

namespace {

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace trainyard::yardctl;
  std::vector<Command> commands = AllCommands();
  std::vector<std::string> rest(argv + 1, argv + argc);
  if (rest.empty() || rest[0] == "help" || rest[0] == "--help" ||
      rest[0] == "-h") {
    std::fputs(MainHelp(commands).c_str(), stdout);
    return rest.empty() ? kExitUsage : kExitOk;
  }
  if (rest[0] == "completion") {
    std::fputs(BashCompletion(commands).c_str(), stdout);
    return kExitOk;
  }
  for (const Command& c : commands) {
    if (c.name != rest[0]) continue;
    Cli cli(&GetEnv);
    Args args("yardctl " + c.name);
    auto run = c.setup(args);
    cli.AddGlobalFlags(args);
    rest.erase(rest.begin());
    if (absl::Status s = args.Parse(rest); !s.ok()) {
      return cli.Usage(absl::StrCat(c.name, ": ", s.message(), " (yardctl ",
                                    c.name, " --help)"));
    }
    if (args.help_requested()) {
      std::fputs(CommandHelp(c, args).c_str(), stdout);
      return kExitOk;
    }
    if (absl::Status s = cli.Resolve(); !s.ok()) {
      return cli.Usage(std::string(s.message()));
    }
    return run(cli, args);
  }
  std::fprintf(stderr, "yardctl: unknown command \"%s\" (yardctl help)\n",
               rest[0].c_str());
  return kExitUsage;
}
