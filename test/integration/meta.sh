#!/usr/bin/env bash
# META.json (PGXN, meta-spec 1.0.0): the required keys are there, and its
# versions agree with pgmaint.control's default_version and the Makefile's
# EXTVERSION (PGXN wants semantic versions: EXTVERSION 1.1 is 1.1.0).
set -u
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

/usr/bin/python3 - "$top" <<'PY'
import json
import os
import re
import sys

top = sys.argv[1]
n = 0
failed = 0


def check(desc, cond, detail=""):
    """Prints one TAP line."""
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, desc))
    else:
        failed += 1
        print("not ok %d - %s" % (n, desc))
        if detail:
            print("#   %s" % detail)


def read(name):
    with open(os.path.join(top, name)) as f:
        return f.read()


try:
    meta = json.loads(read("META.json"))
except ValueError as e:
    check("META.json is JSON", False, str(e))
    sys.exit(1)
check("META.json is JSON", isinstance(meta, dict))

makefile = read("Makefile")
control = read("pgmaint.control")
extension = re.search(r"^EXTENSION\s*=\s*(\S+)", makefile, re.M).group(1)
extversion = re.search(r"^EXTVERSION\s*=\s*(\S+)", makefile, re.M).group(1)
default_version = re.search(r"^default_version\s*=\s*'([^']*)'", control, re.M).group(1)
comment = re.search(r"^comment\s*=\s*'([^']*)'", control, re.M).group(1)
semver = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-.]+)?$")


def semantic(version):
    """EXTVERSION as PGXN writes it: 1.1 is 1.1.0."""
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


missing = [k for k in ("name", "abstract", "version", "maintainer", "license", "provides",
                       "meta-spec", "prereqs", "resources") if k not in meta]
check("META.json has name, abstract, version, maintainer, license, provides, meta-spec, prereqs, resources",
      not missing, "missing: %s" % ", ".join(missing))
check("meta-spec is 1.0.0", meta.get("meta-spec", {}).get("version") == "1.0.0")
check("name is the Makefile's EXTENSION (%s)" % extension, meta.get("name") == extension)
check("the Makefile's EXTVERSION (%s) is pgmaint.control's default_version (%s)" % (extversion, default_version),
      extversion == default_version)
check("version is a semantic version", bool(semver.match(str(meta.get("version")))), repr(meta.get("version")))
check("version (%s) is EXTVERSION %s" % (meta.get("version"), extversion),
      meta.get("version") == semantic(extversion))
check("abstract is pgmaint.control's comment", meta.get("abstract") == comment,
      "%r vs %r" % (meta.get("abstract"), comment))
maintainer = meta.get("maintainer")
check("maintainer is named",
      bool(maintainer) and all(isinstance(m, str) and m.strip() for m in
                               (maintainer if isinstance(maintainer, list) else [maintainer])))

provided = meta.get("provides", {}).get(extension, {})
check("provides %s with file and version" % extension, "file" in provided and "version" in provided)
check("provides.%s.version is EXTVERSION" % extension, provided.get("version") == semantic(extversion),
      repr(provided.get("version")))
check("provides.%s.file is the install script the Makefile builds" % extension,
      provided.get("file") == "sql/%s--%s.sql" % (extension, extversion), repr(provided.get("file")))
check("provides.%s.docfile exists" % extension,
      os.path.isfile(os.path.join(top, provided.get("docfile", "-"))))

license_ = meta.get("license")
check("license is the PostgreSQL License, as LICENSE says",
      license_ in ("postgresql", {"PostgreSQL": "https://www.postgresql.org/about/licence"},
                   {"PostgreSQL": "http://www.postgresql.org/about/licence"})
      and read("LICENSE").startswith("PostgreSQL License"), repr(license_))
pg = meta.get("prereqs", {}).get("runtime", {}).get("requires", {}).get("PostgreSQL", "")
check("runtime prerequisite PostgreSQL 15 (%s)" % pg, re.match(r"^(>= *)?15\.", str(pg)) is not None)
resources = meta.get("resources", {})
check("resources name at least a homepage or repository",
      isinstance(resources, dict) and ("homepage" in resources or "repository" in resources))

print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
