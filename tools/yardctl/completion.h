// Copyright 2026 Trainyard authors.
//
// Help texts and the bash completion script, generated from the command table
// so they never drift from what the commands accept.
#pragma once

#include <string>
#include <vector>

#include "tools/yardctl/command.h"

namespace trainyard::yardctl {

// `yardctl help`: every command with its summary, the exit codes and where
// the endpoint and token come from.
std::string MainHelp(const std::vector<Command>& commands);

// `yardctl CMD --help`: usage with examples, then every flag.
std::string CommandHelp(const Command& command, Args& args);

// `yardctl completion` (source it: `source <(yardctl completion)`): completes
// command names, then each command's flags.
std::string BashCompletion(const std::vector<Command>& commands);

}  // namespace trainyard::yardctl
