#!/usr/bin/env bash
# Checks the lock annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED,
# ...) with clang's -Wthread-safety analysis, as errors. GCC, the main
# compiler, ignores them. Uses the compile database of the (GCC) build
# directory given as $1 and compiles each of our .cc files with clang++
# -fsyntax-only (no code generation), only the files that lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$(realpath "${1:-build}")
db="$build_dir/compile_commands.json"
[ -f "$db" ] || { echo "thread-safety: no $db; build first" >&2; exit 1; }
command -v clang++ >/dev/null || { echo "thread-safety: clang++ missing (tools/dev/install-deps.sh)" >&2; exit 1; }
python3 - "$db" "$(nproc)" <<'PY'
import json, os, re, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

db_path, jobs = sys.argv[1], int(sys.argv[2])
root = os.getcwd()
LOCKING = re.compile(r"absl::Mutex|MutexLock|ABSL_[A-Z_]*(LOCK|GUARDED)")

def locks(path):
    """Whether the file or its own header names a mutex or a lock annotation:
    only there can the analysis find anything (a LOCKS_REQUIRED method is
    called from its class's own file), and skipping the rest keeps the check
    to a few minutes on two cores."""
    for p in (path, os.path.splitext(path)[0] + ".h"):
        if os.path.exists(p) and LOCKING.search(open(p, encoding="utf-8").read()):
            return True
    return False

entries = [e for e in json.load(open(db_path))
           if e["file"].startswith(root + "/") and "/build" not in e["file"][len(root):]
           and locks(e["file"])]

def command(entry):
    args = shlex.split(entry["command"])
    while args and os.path.basename(args[0]) in ("ccache", "c++", "g++"):
        args.pop(0)
    keep, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.startswith("-W"):
            continue
        keep.append(a)
    return (["clang++", "-fsyntax-only", "-Wthread-safety",
             "-Werror=thread-safety", "-Wno-unknown-warning-option"] + keep)

def check(entry):
    r = subprocess.run(command(entry), cwd=entry["directory"],
                       capture_output=True, text=True)
    return entry["file"], r.returncode, r.stderr

failed = 0
with ThreadPoolExecutor(jobs) as pool:
    for path, code, err in pool.map(check, entries):
        if code != 0:
            failed += 1
            sys.stderr.write(err)
print(f"thread-safety: {len(entries)} files, {failed} with errors")
sys.exit(1 if failed else 0)
PY
