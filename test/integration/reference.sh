#!/usr/bin/env bash
# The user docs cannot drift from the code: docs/reference.md is what
# docs/reference.sql generates from the catalog (run in a database of its own,
# so that nothing earlier scripts did in pgmaint_test shows), every function is
# in one of its sections, the README's settings table names every pgmaint.*
# setting with the server's default and context, docs/health-checks.md lists
# every check with its seed levels, the README stays at most 500 lines,
# docs/README.md lists every page, and every relative link and anchor in
# README.md and docs/*.md resolves.
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

db=pgmaint_reference
out=$PGM_TMP/reference.md
trap 'q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
	-c "CREATE DATABASE $db TEMPLATE template0" >/dev/null || exit 1
q -d "$db" -c "CREATE EXTENSION pgmaint" >/dev/null || exit 1

psql -XAtq -d "$db" -f "$top/docs/reference.sql" >"$out" 2>"$PGM_TMP/reference.err"
rc=$?
ok "docs/reference.sql runs" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$PGM_TMP/reference.err"
diff -u "$top/docs/reference.md" "$out" >"$PGM_TMP/reference.diff"
rc=$?
ok "docs/reference.md is what docs/reference.sql generates" test "$rc" = 0
if [ "$rc" != 0 ]; then
	head -n 200 "$PGM_TMP/reference.diff" | sed 's/^/#   /'
	echo "#   regenerate it: run this script with PGM_KEEP=1 and copy $out over docs/reference.md,"
	echo "#   or: psql -XAtq -d DB -f docs/reference.sql > docs/reference.md (a fresh DB, pgmaint preloaded)"
fi
unsorted=$(sed -n '/^## Not yet in a section/,/^## /s/^### //p' "$out")
ok "every public function is in a section of docs/reference.sql" test -z "$unsorted"
[ -z "$unsorted" ] || echo "#   not in a section: $unsorted"

q -d "$db" -F '	' -c "SELECT name, boot_val, coalesce(unit, ''), vartype, context
                         FROM pg_settings WHERE name LIKE 'pgmaint.%' ORDER BY name" >"$PGM_TMP/reference-settings.tsv"

q -d "$db" -F '	' -c "SELECT check_name, coalesce(warning::text, ''), coalesce(critical::text, '')
                         FROM pgmaint.thresholds ORDER BY check_name" >"$PGM_TMP/reference-thresholds.tsv"

# the document checks, one "PASS|FAIL<tab>description<tab>detail" line each
/usr/bin/python3 - "$top" "$PGM_TMP/reference-settings.tsv" "$PGM_TMP/reference-thresholds.tsv" \
	>"$PGM_TMP/reference-docs.out" <<'PY'
import glob
import os
import re
import sys
from decimal import Decimal

top, settings_file, thresholds_file = sys.argv[1], sys.argv[2], sys.argv[3]


def report(desc, problems):
    """One result line: PASS, or FAIL with the problems."""
    print("%s\t%s\t%s" % ("FAIL" if problems else "PASS", desc, " ; ".join(problems[:20])))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def prose(text):
    """The lines of a Markdown text outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if re.match(r"^\s*(```|~~~)", line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def anchors(path):
    """The anchors GitHub makes for the headings of a Markdown file."""
    seen, result = {}, set()
    for line in prose(read(path)):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
        text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else "%s-%d" % (slug, n))
    return result


pages = [os.path.join(top, "README.md")] + sorted(glob.glob(os.path.join(top, "docs", "*.md")))
cache = {}
broken = []
for page in pages:
    name = os.path.relpath(page, top)
    for line in prose(read(page)):
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            if re.match(r"^(https?|mailto):", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(resolved):
                broken.append("%s: %s (no such file)" % (name, target))
                continue
            if anchor and resolved.endswith(".md"):
                if resolved not in cache:
                    cache[resolved] = anchors(resolved)
                if anchor not in cache[resolved]:
                    broken.append("%s: %s (no such heading)" % (name, target))
report("every relative link and anchor in README.md and docs/*.md resolves", broken)

readme = read(os.path.join(top, "README.md"))
lines = readme.count("\n")
report("README.md has at most 500 lines (%d)" % lines, [] if lines <= 500 else ["%d lines" % lines])

index = read(os.path.join(top, "docs", "README.md"))
unlisted = [os.path.basename(p) for p in pages[1:]
            if os.path.basename(p) != "README.md" and "](%s" % os.path.basename(p) not in index]
report("docs/README.md links every page of docs/", unlisted)

# the README's settings table against pg_settings: names, reload or restart, defaults
server = {}
for row in read(settings_file).strip().split("\n"):
    name, boot, unit, vartype, context = row.split("\t")
    server[name] = (boot, unit, vartype, context)
table = {}
for line in prose(readme):
    m = re.match(r"^\|\s*`(pgmaint\.[a-z_]+)`\s*\|([^|]*)\|([^|]*)\|", line)
    if m:
        table.setdefault(m.group(1), []).append((m.group(2).strip(), m.group(3).strip()))
ms = {"ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}


def same_default(cell, boot, unit, vartype):
    """Whether the README's default (its first `code`) is the server's boot value."""
    m = re.search(r"`([^`]*)`", cell)
    if not m:
        return False
    value = m.group(1)
    if vartype == "string":
        return ("" if value == "''" else value) == boot
    if vartype == "integer" and unit in ms:
        v = re.match(r"^(-?\d+)\s*(ms|s|min|h|d)?$", value)
        return bool(v) and int(v.group(1)) * ms[v.group(2) or unit] == int(boot) * ms[unit]
    return value == boot


problems = ["%s: not in the README's table" % n for n in sorted(set(server) - set(table))]
problems += ["%s: in the README's table but not a setting" % n for n in sorted(set(table) - set(server))]
for name in sorted(set(server) & set(table)):
    boot, unit, vartype, context = server[name]
    rows = table[name]
    if len(rows) > 1:
        problems.append("%s: %d rows" % (name, len(rows)))
    default, when = rows[0]
    want = {"postmaster": "restart", "sighup": "reload"}.get(context, context)
    if not when.startswith(want):
        problems.append("%s: says %r, the server %s" % (name, when, want))
    if not same_default(default, boot, unit, vartype):
        problems.append("%s: default %r, the server %s%s" % (name, default, boot, unit))
report("the README's settings table is pg_settings' pgmaint.* (%d): names, reload or restart, defaults"
       % len(server), problems)

# the checks table of docs/health-checks.md against pgmaint.thresholds: names and levels
seed = {}
for row in read(thresholds_file).strip().split("\n"):
    name, warning, critical = row.split("\t")
    seed[name] = (warning, critical)
documented = {}
for line in prose(read(os.path.join(top, "docs", "health-checks.md"))):
    m = re.match(r"^\|\s*`([a-z_]+)`\s*\|[^|]*\|([^|]*)\|([^|]*)\|[^|]*\|\s*$", line)
    if m:
        documented.setdefault(m.group(1), []).append((m.group(2).strip(), m.group(3).strip()))
units = {"kB": 1024, "MB": 1048576, "GB": 1073741824}


def level(cell):
    """A level as the table writes it (604800 (7 days), 16 MB, –) as a number, or None."""
    if cell in ("–", "-", ""):
        return None
    m = re.match(r"^([0-9][0-9,]*(?:\.[0-9]+)?)\s*(kB|MB|GB)?\b", cell)
    return Decimal(m.group(1).replace(",", "")) * units.get(m.group(2), 1) if m else "unreadable: " + cell


problems = ["%s: not in the table" % n for n in sorted(set(seed) - set(documented))]
problems += ["%s: in the table but not a check" % n for n in sorted(set(documented) - set(seed))]
for name in sorted(set(seed) & set(documented)):
    for got, want, which in zip(documented[name][0], seed[name], ("warning", "critical")):
        if level(got) != (Decimal(want) if want else None):
            problems.append("%s: %s %r, pgmaint.thresholds %s" % (name, which, got, want or "NULL"))
report("docs/health-checks.md's checks are pgmaint.thresholds' (%d): names, warning and critical levels"
       % len(seed), problems)
PY
ok "the document checks ran" test $? = 0
while IFS=$'\t' read -r result desc detail; do
	ok "$desc" test "$result" = PASS
	[ "$result" = PASS ] || echo "#   $detail"
done <"$PGM_TMP/reference-docs.out"

finish
