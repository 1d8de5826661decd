#!/usr/bin/env bash
# The SQL sources keep their shape (see the Makefile and sql/code/00-base.sql):
# code is written once, in sql/code/, as CREATE OR REPLACE with its COMMENT
# and its REVOKE beside it; state, seed rows and upgrade deltas hold no code;
# every table has a COMMENT; the built scripts are what the sources make.
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

/usr/bin/python3 - "$top" <<'PY'
import glob
import os
import re
import sys

top = sys.argv[1]
n = 0
failed = 0


def check(desc, problems):
    """Prints one TAP line; problems is a list of strings (empty: ok)."""
    global n, failed
    n += 1
    if not problems:
        print("ok %d - %s" % (n, desc))
        return
    failed += 1
    print("not ok %d - %s" % (n, desc))
    for p in problems[:20]:
        print("#   %s" % p)


def read(path):
    with open(os.path.join(top, path)) as f:
        return f.read()


def strip_bodies(text):
    """The text without comments and dollar-quoted bodies (statements only)."""
    text = re.sub(r"\$([A-Za-z_]*)\$.*?\$\1\$", "$$", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


code = sorted(glob.glob(os.path.join(top, "sql/code/*.sql")))
others = sorted(glob.glob(os.path.join(top, "sql/state/*.sql")) + glob.glob(os.path.join(top, "sql/seed/*.sql"))
                + glob.glob(os.path.join(top, "sql/upgrade/*.sql")))
routine = re.compile(r"^CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s+([a-z_.0-9]+)\s*\(", re.M | re.I)

defined = {}
not_replace = []
for path in code:
    text = strip_bodies(read(path))
    for m in routine.finditer(text):
        defined.setdefault(m.group(3), []).append(os.path.relpath(path, top))
        if not m.group(1):
            not_replace.append("%s: %s" % (os.path.relpath(path, top), m.group(3)))
check("sql/code/ defines %d functions and procedures, each once" % len(defined),
      ["%s in %s" % (k, ", ".join(v)) for k, v in sorted(defined.items()) if len(v) > 1])
check("every function and procedure of sql/code/ is written CREATE OR REPLACE", not_replace)

stray = []
for path in others:
    text = strip_bodies(read(path))
    for m in re.finditer(r"^CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|TRIGGER|EVENT\s+TRIGGER|VIEW)\b[^\n]*",
                         text, re.M | re.I):
        stray.append("%s: %s" % (os.path.relpath(path, top), m.group(0)))
check("state, seed and upgrade deltas hold no code (functions, procedures, triggers, views)", stray)

undocumented = []
for path in code:
    rel = os.path.relpath(path, top)
    text = strip_bodies(read(path))
    for m in routine.finditer(text):
        name = m.group(3)
        kind = m.group(2).upper()
        if not re.search(r"^COMMENT\s+ON\s+%s\s+%s\(" % (kind, re.escape(name)), text, re.M):
            undocumented.append("%s: %s has no COMMENT" % (rel, name))
        if not re.search(r"^REVOKE\s+ALL\s+ON\s+%s\s+%s\([^)]*\)\s+FROM\s+PUBLIC;" % (kind, re.escape(name)), text, re.M):
            undocumented.append("%s: %s has no REVOKE ALL ... FROM PUBLIC beside it" % (rel, name))
check("every function and procedure has its COMMENT and REVOKE ... FROM PUBLIC in its own file", undocumented)

tables = []
for path in sorted(glob.glob(os.path.join(top, "sql/state/*.sql"))):
    text = strip_bodies(read(path))
    for m in re.finditer(r"^CREATE\s+(TABLE|TYPE)\s+([a-z_.0-9]+)", text, re.M):
        if not re.search(r"^COMMENT\s+ON\s+%s\s+%s\s+IS" % (m.group(1), re.escape(m.group(2))), text, re.M):
            tables.append("%s: %s %s has no COMMENT" % (os.path.relpath(path, top), m.group(1).lower(), m.group(2)))
check("every table and type of sql/state/ has a COMMENT beside it", tables)

makefile = read("Makefile")
version = re.search(r"^EXTVERSION\s*=\s*(\S+)", makefile, re.M).group(1)


def cat(paths):
    return "".join(read(p) for p in paths)


rel = lambda paths: [os.path.relpath(p, top) for p in paths]
state = rel(sorted(glob.glob(os.path.join(top, "sql/state/*.sql"))))
seed = rel(sorted(glob.glob(os.path.join(top, "sql/seed/*.sql"))))
built = "sql/pgmaint--%s.sql" % version
if os.path.exists(os.path.join(top, built)):
    check("%s is sql/state, sql/code and sql/seed in that order" % built,
          [] if read(built) == cat(state + rel(code) + seed) else ["rebuild it: make"])
for delta in sorted(glob.glob(os.path.join(top, "sql/upgrade/*--%s.sql" % version))):
    name = os.path.basename(delta)
    out = "sql/pgmaint--%s" % name
    if os.path.exists(os.path.join(top, out)):
        check("%s is sql/upgrade/%s followed by sql/code" % (out, name),
              [] if read(out) == cat([os.path.relpath(delta, top)] + rel(code)) else ["rebuild it: make"])

released = sorted(os.path.basename(p) for p in glob.glob(os.path.join(top, "sql/released/pgmaint--*.sql")))
versions = sorted({re.match(r"pgmaint--([0-9.]+)\.sql$", r).group(1) for r in released if re.match(r"pgmaint--([0-9.]+)\.sql$", r)},
                  key=lambda v: [int(x) for x in v.split(".")])
missing = []
for i, v in enumerate(versions):
    nxt = versions[i + 1] if i + 1 < len(versions) else version
    if "pgmaint--%s--%s.sql" % (v, nxt) not in released and not os.path.exists(
            os.path.join(top, "sql/upgrade/%s--%s.sql" % (v, nxt))):
        missing.append("no upgrade from %s to %s" % (v, nxt))
check("every released version (%s) has an upgrade to the next, up to %s" % (", ".join(versions), version), missing)

print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
