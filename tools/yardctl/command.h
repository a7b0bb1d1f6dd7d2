// Copyright 2026 Trainyard authors.
//
// A yardctl command: its name, one-line summary, usage with an example, the
// flags it declares and what it does. Each command group registers its
// commands from its own file (jobs_commands.cc, follow_commands.cc, ...);
// main.cc dispatches, prints help and writes the bash completion.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tools/yardctl/cli.h"

namespace trainyard::yardctl {

struct Command {
  std::string name;
  std::string summary;
  // "yardctl get JOB_ID", then example lines.
  std::string usage;
  // Declares the command's own flags on `args` (bound to `state`'s fields).
  // Returns the function that runs once arguments are parsed; it returns the
  // process exit code.
  std::function<std::function<int(Cli&, const Args&)>(Args& args)> setup;
};

void AddJobCommands(std::vector<Command>& out);  // submit get list cancel ...
void AddFollowCommands(std::vector<Command>& out);  // watch
void AddEventCommands(std::vector<Command>& out);   // events curve
void AddQueueCommands(std::vector<Command>& out);  // queue promote approve deny
void AddCostCommands(std::vector<Command>& out);   // cost rates

// Every command, in help order.
std::vector<Command> AllCommands();

}  // namespace trainyard::yardctl
