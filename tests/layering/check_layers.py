#!/usr/bin/env python3
"""Fails when an #include crosses a layer it must not cross (issue #14, "a structure that keeps
itself"). The layers, bottom up (a module may include itself and the modules listed for it):

  service/util     -> (nothing)
  service/core     -> util            pure logic: no I/O, no other service module
  service/geoip    -> core, util
  service/store    -> core, util      never api, runtime, config
  service/config   -> core, util
  service/metrics  -> core, util
  service/audit    -> core, util, metrics
  service/runtime  -> core, store, config, metrics, util
  service/api      -> every service module above (the edge)
  service/main.cc  -> anything in service/
  clients/, examples/ -> never service/ (they use only the public proto and client library)

Usage: check_layers.py REPO_ROOT. Prints each violation as FILE:LINE: include, exits 1 if any.
"""
import pathlib
import re
import sys

ALLOWED = {
    "util": set(),
    "core": {"util"},
    "geoip": {"core", "util"},
    "store": {"core", "util"},
    "config": {"core", "util"},
    "metrics": {"core", "util"},
    "audit": {"core", "util", "metrics"},
    "runtime": {"core", "store", "config", "metrics", "util"},
    "api": {"util", "core", "geoip", "store", "config", "metrics", "audit", "runtime"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCES = (".h", ".cc")


def main(root: pathlib.Path) -> int:
    errors = []
    checked = 0
    for path in sorted(root.glob("service/*/**/*")):
        if path.suffix not in SOURCES:
            continue
        module = path.relative_to(root / "service").parts[0]
        if module not in ALLOWED:
            errors.append(f"{path.relative_to(root)}: module service/{module} has no layer "
                          "in tests/layering/check_layers.py")
            continue
        checked += 1
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or not m.group(1).startswith("service/"):
                continue
            target = m.group(1).split("/")[1]
            if target != module and target not in ALLOWED[module]:
                errors.append(f"{path.relative_to(root)}:{n}: service/{module} must not include "
                              f"{m.group(1)}")
    for top in ("clients", "examples"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in SOURCES:
                continue
            checked += 1
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if m and m.group(1).startswith("service/"):
                    errors.append(f"{path.relative_to(root)}:{n}: {top}/ must not include "
                                  f"{m.group(1)}")
    for e in errors:
        print(e)
    if checked == 0:
        print("no sources found: wrong REPO_ROOT?")
        return 1
    print(f"{checked} files checked, {len(errors)} layer violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
