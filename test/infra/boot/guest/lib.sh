#!/bin/bash
# Shared by every stub: the stub world lives under /stub (a bind mount of a host temp dir).
#   /stub/calls.log   one line per call: "<tool><TAB><args>"
#   /stub/fail        rules "<tool> <times|always> <substring of the args>": the stub fails the first <times> calls
#                     whose arguments contain the substring ("-" matches every call)
#   /stub/fixtures/   what the stubs answer with (release.tgz, secret.json, region, ssm/<name>, ...)
STUB=/stub

# A stub run by the service sees /stub read-only (ProtectSystem=strict): its call then goes unrecorded.
record() { printf '%s\t%s\n' "$1" "${*:2}" 2>/dev/null >>"$STUB/calls.log" || true; }

# should_fail TOOL ARGS: true when a rule in /stub/fail says this call fails (and counts it).
should_fail() {
  local tool=$1 args=$2 t times pat key n
  [ -f "$STUB/fail" ] || return 1
  while read -r t times pat; do
    [ "$t" = "$tool" ] || continue
    if [ "$pat" != "-" ] && [[ "$args" != *"$pat"* ]]; then continue; fi
    key=$(printf '%s' "$t $pat" | md5sum | cut -c1-12)
    mkdir -p "$STUB/state"
    n=$(cat "$STUB/state/$key" 2>/dev/null || echo 0)
    n=$((n + 1))
    echo "$n" >"$STUB/state/$key"
    if [ "$times" = always ] || [ "$n" -le "$times" ]; then return 0; fi
  done <"$STUB/fail"
  return 1
}
