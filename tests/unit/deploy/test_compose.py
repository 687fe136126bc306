"""docker-compose.yml cannot run here (no Docker engine): keep it honest against the code."""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import yaml

from jicai_events.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("contracts", "orders", "settlement", "alerts")
WITH_DATABASE = (*SERVICES, "console")  # the operations console keeps staff, sessions and audit in its own database


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_every_service_in_compose_exists_in_the_repository_with_its_own_database() -> None:
    compose = _compose()["services"]
    for name in WITH_DATABASE:
        svc = compose[name]
        assert (REPO / "services" / name / "alembic.ini").is_file()
        assert svc["build"]["args"]["SERVICE"] == name
        settings = importlib.import_module(f"jicai_{name}.settings").Settings
        alias = settings.model_fields["database_url"].validation_alias
        assert alias in svc["environment"], f"{name}: compose sets no {alias}"
        assert svc["environment"][alias].endswith(f"/{name}")
    init_sql = (REPO / "deploy/docker/postgres-init.sql").read_text()
    assert sorted(re.findall(r"CREATE DATABASE (\w+);", init_sql)) == sorted(WITH_DATABASE)


def test_the_console_reads_the_four_services_over_their_compose_addresses() -> None:
    console = _compose()["services"]["console"]["environment"]
    assert {console[f"JICAI_{n.upper()}_URL"] for n in SERVICES} == {f"http://{n}:8000" for n in SERVICES}
    assert "JICAI_AUTH_SECRET" in console and "JICAI_CONSOLE_SESSION_SECRET" in console


def test_ports_and_scrape_targets_match_the_services() -> None:
    compose = _compose()["services"]
    dockerfile = (REPO / "deploy/docker/Dockerfile").read_text()
    container_port = int(re.search(r"EXPOSE (\d+)", dockerfile).group(1))  # type: ignore[union-attr]
    host_ports = [int(compose[n]["ports"][0].split(":")[0]) for n in SERVICES]
    assert len(set(host_ports)) == len(SERVICES)
    assert all(compose[n]["ports"][0].endswith(f":{container_port}") for n in SERVICES)
    prometheus = yaml.safe_load((REPO / compose["prometheus"]["volumes"][0].split(":")[0].removeprefix("./")).read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert sorted(targets) == sorted(f"{n}:{container_port}" for n in SERVICES)


def test_kafka_is_single_node_kraft_with_what_transactions_and_groups_need() -> None:
    env = _compose()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 1
    # topics come from the registry, never from auto-creation
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert all(t.partitions >= 1 for t in ALL_TOPICS)


def test_every_service_reaches_kafka_and_uses_the_shared_signing_secret() -> None:
    compose = _compose()["services"]
    for name in (*SERVICES, "clock"):
        env = compose[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert "JICAI_AUTH_SECRET" in env
    entrypoints = importlib.import_module("jicai_kit.serve").SERVICES
    assert tuple(entrypoints) == SERVICES


def test_every_metric_an_alerting_rule_names_is_defined_by_the_code() -> None:
    compose = _compose()["services"]["prometheus"]
    mounted = {v.split(":")[1]: REPO / v.split(":")[0].removeprefix("./") for v in compose["volumes"]}
    prometheus = yaml.safe_load(mounted["/etc/prometheus/prometheus.yml"].read_text())
    [rules_path] = prometheus["rule_files"]
    rules = yaml.safe_load(mounted[rules_path].read_text())
    named = {m for group in rules["groups"] for rule in group["rules"] for m in re.findall(r"\bjicai_[a-z_]+", rule["expr"])}
    assert named, "the rules watch Jicai metrics"
    defined = set()
    for source in [*REPO.glob("libs/*/jicai_*/**/*.py"), *REPO.glob("services/*/jicai_*/**/*.py")]:
        defined |= set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(jicai_[a-z_]+)"', source.read_text()))
    defined |= {name.removesuffix("_total") for name in defined}
    missing = {m for m in named if m not in defined and m.removesuffix("_total") not in defined}
    assert not missing, f"rules name metrics no code defines: {missing}"
