#!/usr/bin/env bash
# Checks deploy/systemd against systemd 252 (Debian 12) and our binaries:
#   1. `systemd-analyze verify` of the target and every unit, with the shared
#      drop-in loaded: any warning (unknown key, bad value, missing unit or
#      executable) fails;
#   2. `systemd-analyze security --offline`: each unit's exposure is at most
#      2.0 ("OK"), so the sandbox drop-in really applies;
#   3. each unit's ExecStart, with specifiers and trainyard.env expanded as
#      systemd would, is accepted by the built binary (flag names and values
#      parse: the binary is run with them plus --help).
# usage: check_systemd.sh <deploy/systemd> <build dir>
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
services=(jobs scheduler metrics cost)  # gpusim is a test double: no unit
command -v systemd-analyze >/dev/null || {
  echo "deploy_systemd: skipped, systemd-analyze is not installed (Debian package systemd)"
  exit 77
}
fail() { echo "deploy_systemd: FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/units" "$tmp/bin"
cp -r "$src/trainyard.target" "$src/trainyard-.service.d" "$tmp/units/"
found=$(cd "$src" && ls trainyard-*.service | sort | tr '\n' ' ')
want=$(printf 'trainyard-%s.service\n' "${services[@]}" | sort | tr '\n' ' ')
[ "$found" = "$want" ] || fail "units are [$found], expected [$want]"
# verify checks that ExecStart's program exists: point it at the build.
for s in "${services[@]}"; do
  bin=$build/services/$s/trainyard-$s
  [ -x "$bin" ] || fail "$bin is not built"
  ln -s "$(realpath "$bin")" "$tmp/bin/trainyard-$s"
  sed "s|/usr/local/bin/|$tmp/bin/|" "$src/trainyard-$s.service" \
    > "$tmp/units/trainyard-$s.service"
done

cd "$tmp/units"
export SYSTEMD_UNIT_PATH="$tmp/units:"
units=(trainyard.target)
for s in "${services[@]}"; do units+=("trainyard-$s.service"); done
out=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify warned: $out"
echo "verify: ${units[*]} clean"

for u in "${units[@]:1}"; do
  report=$(systemd-analyze security --offline=true --threshold=20 "$u" 2>&1) ||
    fail "$u exposure above 2.0: $(echo "$report" | grep -E '^(✗|→)')"
  echo "security: $(echo "$report" | grep -F 'Overall exposure')"
done

set -a
# shellcheck source=/dev/null
. "$src/trainyard.env"
set +a
for s in "${services[@]}"; do
  var=TRAINYARD_${s^^}_FLAGS
  [ -n "${!var:-}" ] || fail "trainyard.env does not set $var"
  # ExecStart with its continuation lines joined; specifiers of a system unit.
  line=$(sed -n '/^ExecStart=/,/[^\\]$/p' "trainyard-$s.service" |
    sed 's/\\$//; s/^ExecStart=//' | tr '\n' ' ')
  line=${line//%S//var/lib}
  line=${line//%L//var/log}
  line=${line//%d//run/credentials/trainyard-$s.service}
  [[ $line != *%* ]] || fail "trainyard-$s.service: unexpanded specifier in $line"
  eval "argv=($line)"
  "${argv[@]}" --help >/dev/null 2>"$tmp/err" ||
    fail "trainyard-$s rejects its unit's flags: $(cat "$tmp/err")"
  echo "flags: trainyard-$s accepts ${#argv[@]} arguments"
done
echo "deploy_systemd: ok"
