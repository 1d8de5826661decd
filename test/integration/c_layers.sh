#!/usr/bin/env bash
# The C files call each other in layers, without a cycle: the scheduler
# (worker.c) calls the tasks, the tasks call the step runner (step.c) and
# lower files, and nothing below calls up.  The graph is read from the
# objects the build left in src/ (test/run.sh builds first): for each
# src/X.o, its undefined pgm_*/pgmaint_* symbols and the object that
# defines each.  The settings, variables defined in pgmaint.c that every
# file reads, are state rather than calls and are left out (pgmaint.c's
# _PG_init is above everything, its settings below everything).
# packages: binutils
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
src=$top/src

# Prints the members of a cycle of the edges on stdin ("from to" lines), or
# nothing when there is none.
cycle_of() {
	tsort 2>&1 >/dev/null | sed -n 's/^tsort: \([^:]*\)$/\1/p' | tr '\n' ' '
}

# --- the objects are there and up to date ----------------------------------
stale=""
for c in "$src"/*.c; do
	o=${c%.c}.o
	[ -f "$o" ] && [ ! "$c" -nt "$o" ] || stale="$stale $(basename "$o")"
done
is "$stale" "" "every src/*.c has an object newer than itself (the build ran)"

# --- the graph ---------------------------------------------------------------
work=$(mktemp -d "${PGM_TMP:-/tmp}/c_layers.XXXXXX")
trap 'rm -rf "$work"' EXIT
defs=$work/defs
edges=$work/edges
: >"$defs"
: >"$edges"
for c in "$src"/*.c; do
	o=${c%.c}.o
	[ -f "$o" ] || continue
	nm --defined-only -g "$o" | awk -v obj="$(basename "$o" .o)" 'NF == 3 { print $3, $2, obj }' >>"$defs"
done
for c in "$src"/*.c; do
	o=${c%.c}.o
	[ -f "$o" ] || continue
	nm -u "$o" | awk '{ print $NF }' | grep -E '^pgm(aint)?_' |
		awk -v obj="$(basename "$o" .o)" -v defs="$defs" '
			BEGIN { while ((getline line < defs) > 0) { split(line, f, " "); type[f[1]] = f[2]; home[f[1]] = f[3] } }
			!($1 in home) { next }
			home[$1] == "pgmaint" && type[$1] != "T" { next }
			home[$1] != obj { print obj, home[$1], $1 }' >>"$edges"
done

# the map, one line per pair of files, for the log
sort "$edges" | awk '
	{ key = $1 " -> " $2; if (key != last) { if (last != "") print "# " last ": " syms; last = key; syms = $3 } else syms = syms " " $3 }
	END { if (last != "") print "# " last ": " syms }'

ok "the map has edges (the objects were read)" test -s "$edges"

# --- the check can fail ----------------------------------------------------------
planted=$(printf 'worker step\nstep events\nevents worker\nworker ring\n' | cycle_of)
ok "a planted cycle (worker -> step -> events -> worker) is found" \
	test -n "$planted"

# --- the layers ------------------------------------------------------------------
loop=$(awk '{ print $1, $2 }' "$edges" | sort -u | cycle_of)
is "$loop" "" "the calls between src/*.c form no cycle"

if [ -f "$src/step.o" ]; then
	runner_calls=$(awk '$1 == "step" { print $2 ": " $3 }' "$edges" | sort -u | tr '\n' ' ')
else
	runner_calls="no src/step.o"
fi
is "$runner_calls" "" "the step runner (step.c) calls no other pgmaint file"

is "$(awk '$2 == "worker" && $1 != "pgmaint" { print $1 ": " $3 }' "$edges" | sort -u | tr '\n' ' ')" "" \
	"nothing but pgmaint.c (which registers it) calls the scheduler (worker.c)"

finish
