// Copyright 2026 Trainyard authors.
#include "tools/yardctl/completion.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings/absl_view.h"

namespace trainyard::yardctl {
namespace {

// The flag lines of FlagSet::Usage ("  --name (default: ...)" and the help
// line under it), without its own first line.
std::string FlagLines(Args& args) {
  std::string usage = args.flags().Usage();
  return usage.substr(usage.find('\n') + 1);
}

std::vector<std::string> FlagNames(Args& args) {
  std::vector<std::string> names;
  for (absl::string_view piece : absl::StrSplit(FlagLines(args), '\n')) {
    std::string_view line = ToStd(piece);
    if (!line.starts_with("  --")) continue;
    line.remove_prefix(2);
    names.emplace_back(line.substr(0, line.find(' ')));
  }
  return names;
}

}  // namespace

std::string MainHelp(const std::vector<Command>& commands) {
  std::string out =
      "yardctl: submit and steer Trainyard training jobs\n\n"
      "usage: yardctl COMMAND [ARGS] [FLAGS]   (yardctl COMMAND --help)\n\n"
      "commands:\n";
  for (const Command& c : commands) {
    absl::StrAppend(&out, "  ", c.name,
                    std::string(10 - std::min<size_t>(c.name.size(), 9), ' '),
                    c.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "  completion  print the bash completion script: source <(yardctl "
      "completion)\n\n"
      "Endpoint and token: --endpoint/--token, else TRAINYARD_ENDPOINT/"
      "TRAINYARD_TOKEN,\n"
      "else var/dev/yardctl.conf (written by `make run`; found from the "
      "working directory up,\n"
      "or named by TRAINYARD_CONFIG). --as ROLE takes another role's token "
      "from its tokens file.\n\n"
      "Exit codes: 0 ok / job completed, 1 job failed, 2 job cancelled, 3 "
      "invalid input or usage,\n"
      "4 unreachable (or the server cannot serve the call), 5 "
      "unauthenticated or permission denied.\n");
  return out;
}

std::string CommandHelp(const Command& command, Args& args) {
  return absl::StrCat(
      command.summary, "\n\nexamples:\n  ",
      absl::StrJoin(absl::StrSplit(command.usage, '\n'), "\n  "),
      "\n\nflags:\n", FlagLines(args));
}

std::string BashCompletion(const std::vector<Command>& commands) {
  std::vector<std::string> names;
  std::string cases;
  for (const Command& c : commands) {
    names.push_back(c.name);
    Args args("yardctl " + c.name);
    c.setup(args);
    std::vector<std::string> flags;
    for (const std::string& f : FlagNames(args)) flags.push_back("--" + f);
    absl::StrAppend(&cases, "    ", c.name, ") flags=\"",
                    absl::StrJoin(flags, " "), "\" ;;\n");
  }
  return absl::StrCat(
      "# bash completion for yardctl: source <(yardctl completion)\n"
      "_yardctl() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} flags=\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"",
      absl::StrJoin(names, " "),
      " completion help\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  case ${COMP_WORDS[1]} in\n",
      cases,
      "  esac\n"
      "  flags=\"$flags --endpoint --token --as --timeout -o --help\"\n"
      "  COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _yardctl yardctl\n");
}

}  // namespace trainyard::yardctl
