#!/usr/bin/python3
"""Compares what test/suites/upgrade.sh collected; exits 1 on a difference.

usage: upgrade_compare.py catalog UPGRADED.json FRESH.json [KEYS_FILE]
       upgrade_compare.py rows PRISTINE_OLD.json BEFORE.json AFTER.json FRESH_NEW.json

The versions named in the messages are $UPGRADE_FROM and $UPGRADE_TO.

catalog: two descriptions written by upgrade_describe.sql.  Prints each
difference readably (what only one side has, and a unified diff of a
description that differs).  With KEYS_FILE, also writes the keys that differ
there, one a line, sorted.

rows: rows written by upgrade_rows.sql of an untouched install of the old
version, of the user's database before ALTER EXTENSION UPDATE, of the same
database after it, and of a fresh install of the new version.  A row that the
user added or edited (it is not in the untouched old install as it is) keeps
every value it had; a seed row the user left alone, and a seed row new in the
new version, reads as in a fresh install; an old seed row the user left alone
and the new version no longer ships is gone.
"""
import difflib
import json
import os
import sys

FROM = os.environ.get("UPGRADE_FROM", "the old version")
TO = os.environ.get("UPGRADE_TO", "the new version")


def load(path):
    """Reads one JSON object (an empty file or null reads as {})."""
    with open(path) as f:
        text = f.read().strip()
    return json.loads(text) if text else {}


def catalog(upgraded_path, fresh_path, keys_path=None):
    """Compares two catalog descriptions."""
    upgraded = load(upgraded_path) or {}
    fresh = load(fresh_path) or {}
    if not upgraded or not fresh:
        print("# a description is empty: is pgmaint installed in both databases?")
        return 1

    differing = []
    for key in sorted(set(upgraded) | set(fresh)):
        if key not in upgraded:
            differing.append(key)
            print("# only in a fresh %s install (missing from the upgrade script):" % TO)
            print("#   %s" % key)
            for line in fresh[key].splitlines():
                print("#     %s" % line)
        elif key not in fresh:
            differing.append(key)
            print("# only in the upgraded database (left behind or added by the upgrade script):")
            print("#   %s" % key)
            for line in upgraded[key].splitlines():
                print("#     %s" % line)
        elif upgraded[key] != fresh[key]:
            differing.append(key)
            print("# differs: %s" % key)
            diff = difflib.unified_diff(fresh[key].splitlines(), upgraded[key].splitlines(),
                                        "fresh %s install" % TO, "%s + ALTER EXTENSION UPDATE" % FROM,
                                        lineterm="", n=2)
            for line in diff:
                print("#     %s" % line)

    if keys_path:
        with open(keys_path, "w") as f:
            for key in differing:
                f.write(key + "\n")
    if differing:
        print("# %d of %d descriptions differ" % (len(differing), len(set(upgraded) | set(fresh))))
        return 1
    print("# %d descriptions compared, all equal" % len(upgraded))
    return 0


def show(row):
    """One row as sorted JSON on one line."""
    return json.dumps(row, sort_keys=True)


def rows(pristine_path, before_path, after_path, fresh_path):
    """Checks the user's rows and the seed rows across the update."""
    pristine, before, after, fresh = (load(p) or {} for p in
                                      (pristine_path, before_path, after_path, fresh_path))
    problems = 0
    kept = seeded = 0
    for key in sorted(before):
        row = before[key]
        if key in pristine and pristine[key] == row:
            continue
        if key not in after:
            problems += 1
            print("# the user's row %s is gone after the update" % key)
            print("#     before: %s" % show(row))
            continue
        changed = {c: after[key].get(c) for c in row if after[key].get(c) != row[c]}
        if changed:
            problems += 1
            print("# the user's row %s changed in the update" % key)
            print("#     before: %s" % show(row))
            print("#     after:  %s" % show(after[key]))
        else:
            kept += 1
    user_keys = {k for k in before if not (k in pristine and pristine[k] == before[k])}
    for key in sorted(fresh):
        if key in user_keys:
            continue
        if key not in after:
            problems += 1
            print("# the seed row %s of a fresh %s install is missing after the update" % (key, TO))
            print("#     fresh: %s" % show(fresh[key]))
        elif any(after[key].get(c) != fresh[key][c] for c in fresh[key]):
            problems += 1
            print("# the seed row %s (untouched by the user) differs from a fresh %s install's" % (key, TO))
            print("#     fresh: %s" % show(fresh[key]))
            print("#     after: %s" % show(after[key]))
        else:
            seeded += 1
    for key in sorted(after):
        if key not in fresh and key not in user_keys and key in pristine:
            problems += 1
            print("# the %s seed row %s is still there, but a fresh %s install has none" % (FROM, key, TO))
            print("#     after: %s" % show(after[key]))
    print("# %d rows of the user kept, %d seed rows as in a fresh %s install (%d new since %s)"
          % (kept, seeded, TO, len([k for k in fresh if k not in pristine]), FROM))
    return 1 if problems else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "catalog":
        return catalog(*sys.argv[2:5])
    if len(sys.argv) == 6 and sys.argv[1] == "rows":
        return rows(*sys.argv[2:6])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
