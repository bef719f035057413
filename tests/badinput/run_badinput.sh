#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Bad-input corpus runner: run_badinput.sh APPORTION DATA_DIR [CASE_FILTER] runs every case of
# cases.tsv (ids matching the ERE CASE_FILTER) against fixtures it builds in a temporary folder.
#
# A case passes when: the exit code is the expected one; it did not hang (BADINPUT_TIMEOUT s,
# default 60) nor die of a signal (exit >= 128); neither stdout nor stderr holds "unexpected:"
# (an unhandled exception); stderr matches the expected fragment (grep -E); and its guard holds
# (a file that must stay byte-identical, or one that must not exist afterwards).
# Prints one line per case (its stderr joined into one line) and a summary; exits 1 if any case
# failed. BADINPUT_TABLE=FILE also writes the results as a Markdown table (id | input | exit code |
# message) for docs/RELIABILITY.md.
# Needs bash and coreutils only.
set -u
[ $# -ge 2 ] || { echo "usage: $0 APPORTION DATA_DIR [CASE_FILTER]" >&2; exit 2; }
APP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$(cd "$2" && pwd)
FILTER=${3:-.}
HERE=$(cd "$(dirname "$0")" && pwd)
CASES=${BADINPUT_CASES:-$HERE/cases.tsv}
TIMEOUT=${BADINPUT_TIMEOUT:-60}
[ -x "$APP" ] || { echo "not executable: $APP" >&2; exit 2; }
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
F=$ROOT/fixtures
mkdir -p "$F"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
source "$HERE/fixtures.sh"

# Read the selected cases: id <TAB> exit <TAB> fragment <TAB> guard <TAB> input <TAB> command.
ids=() codes=() frags=() guards=() inputs=() cmds=()
while IFS=$'\t' read -r id code frag guard input cmd; do
  case $id in ''|'#'*) continue ;; esac
  [ -n "${cmd:-}" ] || { echo "cases.tsv: row '$id' has fewer than 6 fields" >&2; exit 2; }
  [[ $id =~ $FILTER ]] || continue
  ids+=("$id") codes+=("$code") frags+=("$frag") guards+=("$guard") inputs+=("$input")
  cmds+=("$cmd")
done <"$CASES"
[ ${#ids[@]} -gt 0 ] || { echo "no case matches '$FILTER'" >&2; exit 2; }

# Fixtures: only the groups the selected cases use (the id prefix says which).
need() { local p; for p in "$@"; do printf '%s\n' "${ids[@]}" | grep -q "^$p" && return 0; done; return 1; }
fx_common
need cfg_ set_ && fx_config
need model_ st_ tok_ && fx_model
need data_ && fx_data
need store_ cli_ salvage_ && fx_store
RUN=$(cat "$F/store/run_id" 2>/dev/null || echo no-store-fixture)

# expand TEXT: the placeholders of a command or guard.
expand() {
  local s=$1
  s=${s//\{CFG\}/$DATA/cli/tiny-random.json}
  s=${s//\{DB\}/$W/ws.sqlite}
  s=${s//\{APP\}/$APP}
  s=${s//\{DATA\}/$DATA}
  s=${s//\{F\}/$F}
  s=${s//\{W\}/$W}
  s=${s//\{RUN\}/$RUN}
  printf '%s' "$s"
}
sum_of() { [ -e "$1" ] && cksum <"$1" || echo absent; }
# md_cell TEXT: TEXT safe in a Markdown table cell (| escaped, < as &lt;).
md_cell() { local s=${1//|/\\|}; printf "%s" "${s//</\&lt;}"; }
# short MESSAGE: the message for the table: without the trailing hint, at most 200 characters.
short() {
  local s=${1%% ---> HINT:*}
  [ ${#s} -le 200 ] || s="${s:0:200}…"
  if command -v iconv >/dev/null; then printf "%s" "$s" | iconv -f UTF-8 -t UTF-8 -c; else printf "%s" "$s"; fi
}

pass=0 fail=0 failed=()
table="| id | input | exit code | message |"$'\n'"| --- | --- | --- | --- |"$'\n'
for i in "${!ids[@]}"; do
  id=${ids[$i]} W=$ROOT/work/$id
  mkdir -p "$W"
  cmd=$(expand "${cmds[$i]}")
  guard=$(expand "${guards[$i]}")
  before=''
  case $guard in -|'!'*) ;; *) before=$(sum_of "$guard") ;; esac
  start=$SECONDS
  (cd "$W" && exec timeout -k 5 "$TIMEOUT" bash -c "$cmd" </dev/null >"$W/.out" 2>"$W/.err")
  code=$?
  secs=$((SECONDS - start))
  msg=$(tr -s "\n\t " "   " <"$W/.err")  # the whole message on one line, temp paths as $T
  msg=${msg# }; msg=${msg//$ROOT/\$T}; msg=${msg//$DATA/tests/data}; msg=${msg:0:300}; msg=${msg% }
  command -v iconv >/dev/null && msg=$(printf '%s' "$msg" | iconv -f UTF-8 -t UTF-8 -c)
  why=''
  if [ "$code" = 124 ] || [ "$code" = 137 ]; then why="hung (no exit within ${TIMEOUT} s)"
  elif [ "$code" -ge 128 ]; then why="died of signal $((code - 128))"
  elif grep -aq 'unexpected:' "$W/.out" "$W/.err"; then why="unhandled exception (unexpected:)"
  elif [ "$code" != "${codes[$i]}" ]; then why="exit $code, expected ${codes[$i]}"
  elif [ "$(stat -c %s "$W/.err")" -gt 16384 ]; then why="stderr of $(stat -c %s "$W/.err") bytes (a message, not a dump)"
  elif [ "${frags[$i]}" != - ] && ! tr "\n" " " <"$W/.err" | grep -aEq -- "${frags[$i]}"; then
    why="stderr lacks /${frags[$i]}/"
  fi
  if [ -z "$why" ]; then
    case $guard in
      -) ;;
      '!'*) [ ! -e "${guard#!}" ] || why="left ${guard#!} behind" ;;
      *) [ "$(sum_of "$guard")" = "$before" ] || why="modified $guard" ;;
    esac
  fi
  if [ -z "$why" ]; then
    pass=$((pass + 1))
    printf 'PASS %-28s exit %-3s %3ss  %s\n' "$id" "$code" "$secs" "$msg"
    cell=$code
  else
    fail=$((fail + 1)) failed+=("$id")
    printf 'FAIL %-28s exit %-3s %3ss  %s\n     why: %s\n' "$id" "$code" "$secs" "$msg" "$why"
    [ -n "${BADINPUT_VERBOSE:-}" ] && sed 's/^/     | /' "$W/.err" | head -n 5
    cell="$code (FAIL: $why)"
  fi
  table+="| $id | $(md_cell "${inputs[$i]}") | $(md_cell "$cell") | $(md_cell "$(short "$msg")") |"$'\n'
  rm -rf "$W"
done
echo "summary: $((pass + fail)) cases, $pass passed, $fail failed${failed[*]:+: ${failed[*]}}"
if [ -n "${BADINPUT_TABLE:-}" ]; then printf '%s' "$table" >"$BADINPUT_TABLE"; fi
[ "$fail" = 0 ]
