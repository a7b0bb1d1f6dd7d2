// Copyright 2026 Trainyard authors.
#include "tools/yardctl/command.h"

namespace trainyard::yardctl {

std::vector<Command> AllCommands() {
  std::vector<Command> out;
  AddJobCommands(out);
  AddFollowCommands(out);
  AddEventCommands(out);
  AddQueueCommands(out);
  AddCostCommands(out);
  return out;
}

}  // namespace trainyard::yardctl
