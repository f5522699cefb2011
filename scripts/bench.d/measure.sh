# Sourced by scripts/bench and scripts/bench-keys.
#
#   measure FILE command [args...]
#
# Runs the command and appends one line to FILE: wall time in seconds (perf's
# "time elapsed", to the microsecond), the
# CPU time of all its threads in seconds (perf's task-clock, to the
# microsecond: /usr/bin/time's two decimals cannot tell 8 ms from 12 ms), 0,
# and its peak RSS in KiB (/usr/bin/time, whose child is the command itself,
# so no parent's memory counts). The fields are those of
# `/usr/bin/time -f "%e %U %S %M"`, user and system CPU summed in the second.
# Returns the command's exit code.
measure() {
  local out=$1 tmp rc=0
  shift
  tmp=$(mktemp -d)
  perf stat -e task-clock -o "$tmp/perf" -- /usr/bin/time -f "%M" -o "$tmp/time" "$@" || rc=$?
  local rss cpu wall
  rss=$(tail -n 1 "$tmp/time")
  cpu=$(awk '/task-clock/ {gsub(",", "", $1); printf "%.6f", $1 / 1000}' "$tmp/perf")
  wall=$(awk '/seconds time elapsed/ {print $1}' "$tmp/perf")
  echo "$wall $cpu 0 $rss" >>"$out"
  rm -rf "$tmp"
  return "$rc"
}

# perf (Debian: linux-perf) and /usr/bin/time (Debian: time), installed when missing.
command -v perf >/dev/null && [ -x /usr/bin/time ] || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf time >/dev/null
}
