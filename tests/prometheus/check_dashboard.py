#!/usr/bin/python3
"""Checks the dcdir Grafana dashboard against the metrics contract (docs/CONTRACT.md "Metrics").

Usage: check_dashboard.py DASHBOARD_JSON RULES_YAML [PROMTOOL]

Fails (exit 1, one line per problem) when:
  - the dashboard is not valid JSON, or lacks schemaVersion, the DS_PROMETHEUS datasource
    variable or the client_region variable (label_values of a contract metric);
  - a panel (other than a row) has no datasource, no targets, or a target without expr or
    datasource; a datasource is not the ${DS_PROMETHEUS} variable;
  - any expression in the dashboard or the rules file uses a metric that is not in the contract
    (or a recording rule that the rules file does not define);
  - a contract metric is used by no dashboard panel and no rule;
  - with PROMTOOL: a dashboard expression is not valid PromQL (checked by `promtool check rules`
    on a scratch rule file, Grafana's $variables replaced by sample values).
Only the standard library: the rules file is read with a small extractor for `expr:` and
`record:` keys (plain one-line values or `|` / `>` blocks), which is how dcdir-rules.yaml is written.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

# The metrics contract. Histograms also expose _bucket, _sum and _count.
CONTRACT = {
    "dcdir_directory_requests_total",
    "dcdir_directory_request_duration_seconds",
    "dcdir_fallback_responses_total",
    "dcdir_cross_border_fallback_total",
    "dcdir_compliance_exclusions_total",
    "dcdir_datacenter_up",
    "dcdir_datacenter_congestion",
    "dcdir_health_reports_total",
    "dcdir_client_fallbacks_total",
    "dcdir_store_up",
    "dcdir_snapshot_age_seconds",
    "dcdir_snapshot_version",
    "dcdir_self_preservation_active",
    "dcdir_config_reload_total",
    "dcdir_store_bad_records_total",
    "dcdir_directory_errors_total",
    "dcdir_policy_cross_border_total",
}
HISTOGRAMS = {"dcdir_directory_request_duration_seconds"}
BUILTIN = {"up"}  # from the scrape itself

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "offset", "bool", "inf", "nan", "atan2", "start", "end"}

IDENT = re.compile(r"(?<![\w:.$])[A-Za-z_:][\w:]*")


def metric_names(expr):
    """Returns the metric names an expression selects (best effort, good for our PromQL)."""
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)  # strings
    s = re.sub(r"\$\{[^}]*\}|\$\w+", " ", s)  # Grafana variables
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+)?([smhdwy]|ms)?\b", " ", s)  # numbers, durations
    names = set()
    for m in IDENT.finditer(s):
        word = m.group(0)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):  # a function or aggregation
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def base_metric(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def rule_entries(path):
    """Yields (key, value) for every `record:`, `alert:` and `expr:` key of a rules file."""
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    key_re = re.compile(r"^(\s*)(?:-\s+)?(record|alert|expr):\s*(.*)$")
    while i < len(lines):
        m = key_re.match(lines[i])
        i += 1
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2), m.group(3).strip()
        if value in ("|", ">", "|-", ">-", "|+", ">+"):
            block = []
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            value = " ".join(block)
        elif value[:1] in "\"'" and value[-1:] == value[:1]:
            value = value[1:-1]
        yield key, value


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__)
        return 2
    dashboard_path, rules_path = argv[1], argv[2]
    promtool = argv[3] if len(argv) == 4 else None
    errors = []

    try:
        with open(dashboard_path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{dashboard_path}: not valid JSON: {e}")
        return 1

    ds_var = "${DS_PROMETHEUS}"
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        errors.append(f"schemaVersion missing or too old: {dash.get('schemaVersion')!r}")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("DS_PROMETHEUS")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("templating: no DS_PROMETHEUS datasource variable of type prometheus")
    region = variables.get("client_region")
    region_query = ""
    if region:
        q = region.get("query")
        region_query = q.get("query", "") if isinstance(q, dict) else (q or "")
    m = re.fullmatch(r"\s*label_values\(\s*([\w:]+)\s*,\s*client_region\s*\)\s*", region_query)
    if not region or region.get("type") != "query" or not m:
        errors.append("templating: no client_region variable from label_values(<metric>, client_region)")

    recorded, rule_exprs = set(), []
    for key, value in rule_entries(rules_path):
        if key == "record":
            recorded.add(value)
        elif key == "expr":
            if not value:
                errors.append(f"{rules_path}: empty expr")
            rule_exprs.append(value)
    if not rule_exprs:
        errors.append(f"{rules_path}: no rule expressions found")

    used = set()

    def check_expr(where, expr):
        for name in metric_names(expr):
            base = base_metric(name)
            if base in CONTRACT or base in BUILTIN:
                used.add(base)
            elif name in recorded:
                pass
            else:
                errors.append(f"{where}: metric {name!r} is not in the contract")

    if m:
        check_expr("templating client_region", m.group(1))

    def is_ds_var(d):
        return isinstance(d, dict) and d.get("uid") == ds_var and d.get("type") == "prometheus"

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))

    panel_exprs = []
    panels = list(walk(dash.get("panels", [])))
    if not [p for p in panels if p.get("type") != "row"]:
        errors.append("dashboard has no panels")
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)):
        errors.append("panel ids are not unique")
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title") or f"panel id {p.get('id')}"
        if not is_ds_var(p.get("datasource")):
            errors.append(f"panel {title!r}: datasource is not the {ds_var} prometheus variable")
        targets = p.get("targets") or []
        if not targets:
            errors.append(f"panel {title!r}: no targets")
        for t in targets:
            ref = t.get("refId", "?")
            if not is_ds_var(t.get("datasource")):
                errors.append(f"panel {title!r} target {ref}: datasource is not {ds_var}")
            expr = (t.get("expr") or "").strip()
            if not expr:
                errors.append(f"panel {title!r} target {ref}: empty expr")
                continue
            check_expr(f"panel {title!r} target {ref}", expr)
            panel_exprs.append((f"panel {title!r} target {ref}", expr))
    for i, expr in enumerate(rule_exprs):
        check_expr(f"{rules_path} expr #{i + 1}", expr)

    for name in sorted(CONTRACT - used):
        errors.append(f"contract metric {name!r} is used by no panel and no rule")

    if promtool and panel_exprs:
        errors.extend(promql_errors(promtool, panel_exprs))

    for e in errors:
        print(e)
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        return 1
    print(f"OK: {len(panel_exprs)} panel queries, {len(rule_exprs)} rule expressions, "
          f"{len(used)} metrics used")
    return 0


def promql_errors(promtool, panel_exprs):
    """Parses every dashboard query with promtool (Grafana variables replaced)."""
    subst = [("$__rate_interval", "1m"), ("$__interval", "1m"), ("$__range", "1h"),
             ("${client_region}", ".*"), ("$client_region", ".*")]
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (where, expr) in enumerate(panel_exprs):
            for a, b in subst:
                expr = expr.replace(a, b)
            path = os.path.join(tmp, f"q{i}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write("groups:\n  - name: q\n    rules:\n      - record: q\n        expr: "
                        + json.dumps(expr) + "\n")
            r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
            if r.returncode != 0:
                msg = " ".join((r.stdout + r.stderr).split())
                errors.append(f"{where}: invalid PromQL: {msg}")
    return errors


if __name__ == "__main__":
    sys.exit(main(sys.argv))
