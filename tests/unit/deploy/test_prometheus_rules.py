"""The alerting rules, checked and unit-tested by Prometheus' own promtool (Debian's ``prometheus`` package,
installed by deploy/install.sh): every alert fires on the series that should fire it and on no other."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
RULE_FILES = sorted(p for p in (REPO / "deploy/prometheus").glob("*.yml") if "groups" in yaml.safe_load(p.read_text()))
TESTS = sorted((Path(__file__).parent / "prometheus").glob("*.yml"))


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make install (deploy/install.sh installs Debian's prometheus package)"
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=TESTS[0].parent)


def test_the_rule_files_are_valid() -> None:
    assert RULE_FILES, "deploy/prometheus holds the alerting rules"
    result = _promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_unit_tests() -> None:
    result = _promtool("test", "rules", *TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_tests() -> list[dict[str, Any]]:
    return [case for path in TESTS for test in yaml.safe_load(path.read_text())["tests"] for case in test.get("alert_rule_test", [])]


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not() -> None:
    alerts = {r["alert"] for path in RULE_FILES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"] if "alert" in r}
    firing = {case["alertname"] for case in _alert_tests() if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in _alert_tests() if not case.get("exp_alerts")}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested quiet"


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    """promtool really evaluates the rules: the same tests against a rule that never fires fail."""
    rules = yaml.safe_load(RULE_FILES[0].read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["expr"] = "vector(0) > 1"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    test = yaml.safe_load(TESTS[0].read_text())
    test["rule_files"] = [str(tmp_path / "rules.yml")]
    (tmp_path / "rules_test.yml").write_text(yaml.safe_dump(test, allow_unicode=True))
    result = _promtool("test", "rules", tmp_path / "rules_test.yml")
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
