#!/usr/bin/env python3
"""Checks of deploy/prometheus beyond what promtool and amtool do (run by ../validate).

  check.py lint DIR        every alert: for, severity, summary/description/runbook, a README
                           section for its runbook, a unit test that fires it and one that
                           expects it silent; every recording rule used by an alert; every
                           alert name the inhibit rules of alertmanager.yml name exists.
                           Prints "ALERTS TESTS" (counts) on success.
  check.py templates DIR   the inline templates of alertmanager.yml, NUL-separated (for
                           `amtool template render`).
  check.py mutate DIR      self-test: broken copies of the rules must fail their unit tests:
                           each alert never firing, each alert without its for:, and a wrong
                           metric name in each rule's first selector.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

RULES = "rules/innkeep.rules.yml"
# A metric or recorded series name in an expression: raw innkeep_*/node_* metrics, `up`,
# and level:metric:operation names of the recording rules. Not label names, not quoted values.
METRIC = re.compile(r'(?<![\w:"])((?:[a-z_]+:)?(?:innkeep|node)_\w+(?::\w+)?|up)(?![\w:"(])')


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def rules_of(d):
    doc = load(os.path.join(d, RULES))
    return doc, [r for g in doc["groups"] for r in g["rules"]]


def test_files(d):
    t = os.path.join(d, "tests")
    return sorted(os.path.join("tests", f) for f in os.listdir(t) if f.endswith(".test.yml"))


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def depends(rules):
    """alert name -> every recorded series its expression uses (transitively)."""
    records = {r["record"]: r["expr"] for r in rules if "record" in r}

    def uses(expr, seen):
        for name in METRIC.findall(expr):
            if name in records and name not in seen:
                seen.add(name)
                uses(records[name], seen)
        return seen

    return {r["alert"]: uses(r["expr"], set()) for r in rules if "alert" in r}


def lint(d):
    errors = []
    _, rules = rules_of(d)
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    with open(os.path.join(d, "README.md")) as f:
        anchors = {slug(m) for m in re.findall(r"^#+\s+(.+)$", f.read(), re.M)}
    for name, r in alerts.items():
        if not r.get("for"):
            errors.append(f"{name}: no for:")
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            errors.append(f"{name}: severity must be critical or warning")
        ann = r.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            if not ann.get(key):
                errors.append(f"{name}: no {key} annotation")
        runbook = ann.get("runbook", "")
        prefix = "deploy/prometheus/README.md#"
        if not runbook.startswith(prefix) or runbook[len(prefix):] not in anchors:
            errors.append(f"{name}: runbook {runbook!r} is not a section of deploy/prometheus/README.md")
    # Every recording rule feeds an alert.
    used = set().union(*depends(rules).values())
    for r in rules:
        if "record" in r and r["record"] not in used:
            errors.append(f"recording rule {r['record']} is used by no alert")
    # Unit tests: each alert fires in one test and is expected silent in another. Every
    # group in group_eval_order, recording groups first: without it promtool evaluates the
    # groups in a random order, and an alert may see the recorded series one step late.
    doc, _ = rules_of(d)
    groups = [g["name"] for g in doc["groups"]]
    recording = [g["name"] for g in doc["groups"] if all("record" in r for r in g["rules"])]
    fires, silent, cases = set(), set(), 0
    for path in test_files(d):
        test = load(os.path.join(d, path))
        order = test.get("group_eval_order") or []
        if sorted(order) != sorted(groups) or set(order[: len(recording)]) != set(recording):
            errors.append(f"{path}: group_eval_order must list every group, the recording groups {recording} first")
        for group in test.get("tests", []):
            for case in group.get("alert_rule_test", []) or []:
                cases += 1
                name = case["alertname"]
                if name not in alerts:
                    errors.append(f"{path}: test of unknown alert {name}")
                (fires if case.get("exp_alerts") else silent).add(name)
    for name in alerts:
        if name not in fires:
            errors.append(f"{name}: no unit test fires it")
        if name not in silent:
            errors.append(f"{name}: no unit test expects it silent (below threshold or shorter than for:)")
    # Inhibit rules name alerts that exist.
    am = load(os.path.join(d, "alertmanager.yml"))
    for i, rule in enumerate(am.get("inhibit_rules", [])):
        for side in ("source_matchers", "target_matchers"):
            for m in rule.get(side, []):
                mm = re.fullmatch(r'alertname(=~|=)"(.*)"', m)
                if not mm:
                    continue
                pattern = mm.group(2) if mm.group(1) == "=~" else re.escape(mm.group(2))
                if not any(re.fullmatch(pattern, a) for a in alerts):
                    errors.append(f"alertmanager.yml inhibit rule {i + 1}: {side} {m} matches no alert")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(len(alerts), cases)


def templates(d):
    am = load(os.path.join(d, "alertmanager.yml"))
    out = []

    def walk(v):
        if isinstance(v, str):
            if "{{" in v:
                out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(am.get("receivers", []))
    sys.stdout.write("\0".join(out))


def mutate(d):
    doc, rules = rules_of(d)
    deps = depends(rules)
    # Which test files exercise each alert.
    files_of = {}
    for path in test_files(d):
        text = open(os.path.join(d, path)).read()
        for name in deps:
            if re.search(rf"alertname:\s*{name}\s*$", text, re.M):
                files_of.setdefault(name, []).append(path)

    def affected(rule):
        if "alert" in rule:
            return {rule["alert"]}
        return {a for a, recs in deps.items() if rule["record"] in recs}

    cases = []
    for gi, g in enumerate(doc["groups"]):
        for ri, r in enumerate(g["rules"]):
            label = r.get("alert") or r["record"]
            if "alert" in r:
                cases.append((f"{label}: never fires", gi, ri, "expr", "vector(1) < 0", affected(r)))
                if r.get("for"):
                    cases.append((f"{label}: without for:", gi, ri, "for", None, affected(r)))
            m = METRIC.search(r["expr"])
            if m and not ("alert" in r and ":" in m.group(1)):
                broken = r["expr"][: m.start()] + m.group(1) + "_typo" + r["expr"][m.end():]
                cases.append((f"{label}: {m.group(1)} misspelt", gi, ri, "expr", broken, affected(r)))
    scratch = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(scratch, "rules"))
        shutil.copytree(os.path.join(d, "tests"), os.path.join(scratch, "tests"))
        survived = []
        for what, gi, ri, key, value, alerts in cases:
            broken = copy.deepcopy(doc)
            rule = broken["groups"][gi]["rules"][ri]
            if value is None:
                del rule[key]
            else:
                rule[key] = value
            with open(os.path.join(scratch, RULES), "w") as f:
                yaml.safe_dump(broken, f, sort_keys=False)
            files = sorted({p for a in alerts for p in files_of.get(a, [])})
            if not files:
                survived.append(f"{what}: no test file exercises {sorted(alerts)}")
                continue
            run = subprocess.run(["promtool", "test", "rules", *files], cwd=scratch, capture_output=True, text=True)
            if run.returncode == 0:
                survived.append(f"{what}: the unit tests still pass ({', '.join(files)})")
        if survived:
            print("broken copies the unit tests did not catch:\n  " + "\n  ".join(survived), file=sys.stderr)
            sys.exit(1)
        print(len(cases))
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("lint", "templates", "mutate"):
        sys.exit(__doc__)
    {"lint": lint, "templates": templates, "mutate": mutate}[sys.argv[1]](sys.argv[2])
