"""The Grafana dashboard (deploy/grafana/dashboards/*.json, provisioned in docker-compose.yml): valid JSON on the
provisioned Prometheus datasource, every PromQL expression parsed by promtool, every metric it names one the
services export (read from prometheus_client's registry after importing every module that defines metrics)."""
from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

REPO = Path(__file__).resolve().parents[3]
DASHBOARDS = sorted((REPO / "deploy/grafana/dashboards").glob("*.json"))
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _panels() -> list[dict[str, Any]]:
    return [p for path in DASHBOARDS for p in json.loads(path.read_text())["panels"] if p["type"] != "row"]


def _expressions() -> list[str]:
    return [target["expr"] for panel in _panels() for target in panel["targets"]]


def _compose() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    return services


def test_the_dashboard_is_provisioned_in_compose_on_the_prometheus_datasource() -> None:
    grafana = _compose()["grafana"]
    mounted = {v.split(":")[1]: REPO / v.split(":")[0].removeprefix("./") for v in grafana["volumes"]}
    assert mounted["/var/lib/grafana/dashboards"] == REPO / "deploy/grafana/dashboards"
    [datasource] = yaml.safe_load((mounted["/etc/grafana/provisioning/datasources"] / "prometheus.yml").read_text())["datasources"]
    [provider] = yaml.safe_load((mounted["/etc/grafana/provisioning/dashboards"] / "jicai.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert datasource["url"] == "http://prometheus:9090" and "9090:9090" in _compose()["prometheus"]["ports"]
    assert DASHBOARDS
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
    for panel in _panels():
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == datasource["uid"] and t["expr"] for t in panel["targets"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


def test_it_shows_the_platform_s_health_and_the_province_s_figures() -> None:
    named = " ".join(_expressions())
    for metric in (
        "jicai_consumer_lag", "jicai_consumer_parked_partitions", "jicai_dead_letters_total", "jicai_day_close_oldest_pending_timestamp_seconds",
        "jicai_http_request_duration_seconds_count", "jicai_http_request_duration_seconds_bucket",
        "jicai_withheld_institutions", "jicai_suspended_institutions", "jicai_overdue_amount_yuan", "jicai_open_alerts",
    ):
        assert metric in named, f"the dashboard does not show {metric}"


def _exported() -> set[str]:
    for source in [*REPO.glob("libs/*/jicai_*/**/*.py"), *REPO.glob("services/*/jicai_*/**/*.py")]:
        if re.search(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"jicai_", source.read_text()):
            package_root = next(p for p in source.parents if p.name.startswith("jicai_")).parent
            importlib.import_module(".".join(source.relative_to(package_root).with_suffix("").parts))
    return {family.name for family in REGISTRY.collect()}


def test_every_metric_an_expression_names_is_exported_by_a_service() -> None:
    exported = _exported()
    assert "jicai_http_request_duration_seconds" in exported
    named = {m for expr in _expressions() for m in re.findall(r"\bjicai_[a-z_]+", expr)}
    unknown = {m for m in named if m not in exported and not any(m.endswith(s) and m.removesuffix(s) in exported for s in SUFFIXES)}
    assert not unknown, f"the dashboard names metrics no service exports: {unknown}"


def test_every_expression_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make install (deploy/install.sh installs Debian's prometheus package)"
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:expr_{i}", "expr": e} for i, e in enumerate(_expressions())]}]}
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run([promtool, "check", "rules", str(tmp_path / "dashboard.yml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
