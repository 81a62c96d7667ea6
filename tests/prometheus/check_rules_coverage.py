#!/usr/bin/python3
"""Checks that every dcdir alert is documented and unit-tested both ways.

Usage: check_rules_coverage.py RULES_YAML TESTS_DIR RUNBOOK_MD

Fails (exit 1, one line per problem) when an alert in RULES_YAML:
  - lacks a `severity` label or a `summary`, `description` or `runbook` annotation;
  - has a runbook that is not `docs/RUNBOOK.md#<anchor>` with a `## <Heading>` in RUNBOOK_MD
    whose GitHub anchor is <anchor>;
  - has no `promtool test rules` case in TESTS_DIR/*.yaml where it fires (non-empty exp_alerts)
    and none where it must not fire (`exp_alerts: []`);
or when a test names an alert that the rules do not define (such a test passes vacuously).
Standard library only; reads the files line by line, as they are written in this repository.
"""

import glob
import os
import re
import sys


def anchor(heading):
    """GitHub's anchor for a Markdown heading."""
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def parse_alerts(path):
    alerts = {}
    current = None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\s*-\s+(alert|record|name):\s*(\S+)", line)
        if m:
            current = None
            if m.group(1) == "alert":
                current = alerts.setdefault(m.group(2), {})
            continue
        m = re.match(r"^\s*(severity|summary|description|runbook):\s*(.*)$", line)
        if current is not None and m:
            current[m.group(1)] = m.group(2).strip().strip("\"'")
    return alerts


def parse_tests(tests_dir):
    firing, silent, files = {}, {}, sorted(glob.glob(os.path.join(tests_dir, "*.yaml")))
    for path in files:
        lines = [l for l in open(path, encoding="utf-8").read().splitlines()
                 if l.strip() and not l.strip().startswith("#")]
        for i, line in enumerate(lines):
            m = re.match(r"^\s*alertname:\s*(\S+)\s*$", line)
            if not m:
                continue
            name = m.group(1)
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            where = f"{os.path.basename(path)}:{name}"
            if re.fullmatch(r"exp_alerts:\s*\[\s*\]", nxt):
                silent.setdefault(name, []).append(where)
            elif nxt == "exp_alerts:":
                firing.setdefault(name, []).append(where)
    return files, firing, silent


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    rules, tests_dir, runbook = argv[1:]
    errors = []
    alerts = parse_alerts(rules)
    if not alerts:
        errors.append(f"{rules}: no alerts found")
    headings = {anchor(m.group(1)) for m in
                re.finditer(r"^##\s+(.+)$", open(runbook, encoding="utf-8").read(), re.M)}
    files, firing, silent = parse_tests(tests_dir)
    if not files:
        errors.append(f"{tests_dir}: no *.yaml test files")

    for name, a in sorted(alerts.items()):
        for key in ("severity", "summary", "description", "runbook"):
            if not a.get(key):
                errors.append(f"alert {name}: no {key}")
        rb = a.get("runbook", "")
        m = re.fullmatch(r"docs/RUNBOOK\.md#([\w-]+)", rb)
        if rb and not m:
            errors.append(f"alert {name}: runbook {rb!r} is not docs/RUNBOOK.md#<anchor>")
        elif m and m.group(1) not in headings:
            errors.append(f"alert {name}: runbook anchor #{m.group(1)} has no heading in {runbook}")
        if name not in firing:
            errors.append(f"alert {name}: no unit test where it fires")
        if name not in silent:
            errors.append(f"alert {name}: no unit test where it must not fire (exp_alerts: [])")
    for name in sorted(set(firing) | set(silent)):
        if name not in alerts:
            errors.append(f"tests name alert {name!r} which the rules do not define")

    for e in errors:
        print(e)
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        return 1
    print(f"OK: {len(alerts)} alerts, each documented and tested firing and not firing "
          f"({len(files)} test files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
