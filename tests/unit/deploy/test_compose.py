"""docker-compose.yml cannot run here (no Docker engine): keep it honest against the code."""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import yaml

from jicai_events.topics import ALL_TOPICS
from jicai_kit import migrations
from jicai_kit.services import registered

REPO = Path(__file__).resolve().parents[3]
SERVICES = tuple(registered())  # every installed service (entry points jicai.services) must be in compose
WITH_DATABASE = (*SERVICES, "console")  # the operations console keeps staff, sessions and audit in its own database
PACKAGES = {**{n: s.package for n, s in registered().items()}, "console": "jicai_console"}


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return compose


def test_every_service_in_compose_exists_in_the_repository_with_its_own_database() -> None:
    compose = _compose()["services"]
    for name in WITH_DATABASE:
        svc = compose[name]
        assert (migrations.script_directory(PACKAGES[name]) / "env.py").is_file()
        assert name == "console" or svc["build"]["args"]["SERVICE"] == name
        settings = importlib.import_module(f"jicai_{name}.settings").Settings
        alias = settings.model_fields["database_url"].validation_alias
        assert alias in svc["environment"], f"{name}: compose sets no {alias}"
        assert svc["environment"][alias].endswith(f"/{name}")
    init = (REPO / "deploy/docker/postgres-init.sh").read_text()
    assert sorted(re.search(r"for service in ([\w ]+); do", init).group(1).split()) == sorted(WITH_DATABASE)  # type: ignore[union-attr]


def test_the_console_signs_with_the_token_key_and_reads_the_four_services_over_their_compose_addresses() -> None:
    compose = _compose()
    console = compose["services"]["console"]
    env = console["environment"]
    assert console["command"][:2] == ["jicai-console", "serve"]
    assert {env[f"JICAI_{n.upper()}_URL"] for n in SERVICES} == {f"http://{n}:8000" for n in SERVICES}
    assert env["JICAI_CONSOLE_SIGNING_KEY_FILE"].startswith("/run/secrets/token-signing/") and "token-signing" in console["secrets"]
    assert env["JICAI_CONSOLE_SESSION_SECRET_FILE"] == "/run/secrets/console-session-secret"
    assert env["JICAI_DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres-console" and "postgres-console" in console["secrets"]
    assert env["JICAI_CONSOLE_DATABASE_URL"] == "postgresql+psycopg://console@postgres:5432/console"
    assert "postgres-console" in compose["services"]["postgres"]["secrets"]


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
    properties = dict(line.split("=", 1) for line in (REPO / "deploy/kafka/server-sasl.properties").read_text().splitlines()
                      if line and not line.startswith("#"))
    assert properties["process.roles"] == "broker,controller"
    assert properties["offsets.topic.replication.factor"] == properties["transaction.state.log.min.isr"] == "1"
    # topics come from the registry (jicai-kafka-setup), never from auto-creation
    assert properties["auto.create.topics.enable"] == "false"
    assert all(t.partitions >= 1 for t in ALL_TOPICS)
    # clients only over SASL/SCRAM, and no ACL means no access
    assert properties["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    assert properties["listeners"].startswith("SASL_PLAINTEXT://") and "CONTROLLER://127.0.0.1:" in properties["listeners"]
    assert properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"


def test_every_service_has_its_own_credentials_from_secrets_and_no_password_is_in_the_repository() -> None:
    compose = _compose()
    declared = compose["secrets"]
    assert all(s["file"].startswith("./secrets/") for s in declared.values())
    assert "secrets/" in (REPO / ".gitignore").read_text().splitlines(), "the secret files can never be committed"
    for name in (*SERVICES, "clock", "kafka-setup"):
        svc = compose["services"][name]
        env = svc["environment"]
        user = {"kafka-setup": "admin"}.get(name, name)
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert (env["KAFKA_SECURITY_PROTOCOL"], env["KAFKA_SASL_MECHANISM"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
        assert env["KAFKA_USERNAME"] == user, f"{name} is Kafka user {user}"
        assert env["KAFKA_PASSWORD_FILE"] == f"/run/secrets/kafka-{user}" and f"kafka-{user}" in svc["secrets"]
    for name in SERVICES:
        svc = compose["services"][name]
        env = svc["environment"]
        assert env["JICAI_ENV"] == "production"
        assert env["JICAI_DATABASE_PASSWORD_FILE"] == f"/run/secrets/postgres-{name}" and f"postgres-{name}" in svc["secrets"]
        url = next(v for k, v in env.items() if k.endswith("_DATABASE_URL"))
        assert url == f"postgresql+psycopg://{name}@postgres:5432/{name}", "the service's own role, no password in the URL"
        assert env["JICAI_AUTH_PUBLIC_KEYS"] == "/run/secrets/auth-public-keys" and "auth-public-keys" in svc["secrets"]
        assert not any("private" in s or "signing" in s for s in svc["secrets"]), "services never hold the signing key"
    for svc in compose["services"].values():
        for key, value in (svc.get("environment") or {}).items():
            assert not re.search(r"PASSWORD|SECRET", key) or key.endswith("_FILE"), f"{key}: a secret given as a value"
            assert not re.search(r"://[^@/]+:[^@/]+@", str(value)), f"{key}: a password inside a URL"
    postgres = compose["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-superuser"
    assert postgres["environment"]["POSTGRES_INITDB_ARGS"] == "--auth-local=scram-sha-256 --auth-host=scram-sha-256"
    assert "unix_socket_permissions=0700" in postgres["command"] and "hba_file=/etc/postgresql/pg_hba.conf" in postgres["command"]
    hba = [line.split() for line in (REPO / "deploy/docker/pg_hba.conf").read_text().splitlines() if line and not line.startswith("#")]
    assert {row[-1] for row in hba} == {"scram-sha-256", "reject"}, "no trust, no md5"


def test_the_acls_grant_each_service_the_topics_its_consumers_read() -> None:
    import jicai_events.catalog  # noqa: F401  (registers every event)
    from jicai_events import acls
    from jicai_events.base import event_registry
    from jicai_events.topics import topic_for
    from jicai_events.watermarks import marker_consumer_name

    for name in SERVICES:
        settings = importlib.import_module(f"jicai_{name}.settings").Settings(database_url=f"postgresql+psycopg://{name}@db/{name}")
        runtime = importlib.import_module(f"jicai_{name}.bootstrap").make_runtime(settings)
        specs = runtime.all_consumers
        assert {t for spec in specs for t in spec.topics} == set(acls.READS[name]), f"{name} reads what it consumes, no more"
        assert all(spec.name.startswith(f"{name}.") for spec in specs), "consumer groups carry the service's prefix"
        assert marker_consumer_name(name).startswith(f"{name}.")
    for event in event_registry.models():  # every event a publisher emits goes to a topic it may write
        writer = acls.WRITER_OF_SOURCE.get(event.source_service, event.source_service)
        assert topic_for(event) in acls.WRITES[writer], f"{writer} may not write {topic_for(event).name}"


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


def test_the_image_installs_the_built_wheels_in_a_build_stage_and_runs_as_an_unprivileged_user() -> None:
    """What tests/infra/test_wheels.py proves to run (deploy/build-wheels.sh, uv, no -e) is what the image installs."""
    dockerfile = (REPO / "deploy/docker/Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) == 2, "a build stage and a runtime stage"
    build, runtime = stages
    assert "deploy/build-wheels.sh /wheels" in build and "--require-hashes" in build and "uv pip check" in build
    assert not re.search(r"pip install[^\n]* -e ", dockerfile), "no editable installs"
    assert "COPY --from=build /opt/jicai /opt/jicai" in runtime and "COPY libs" not in runtime and "COPY services" not in runtime
    [user] = re.findall(r"^USER (\S+)", runtime, flags=re.M)
    assert user.split(":")[0] not in ("root", "0")
    assert re.search(r"useradd --system --uid " + re.escape(user.split(":")[0]), runtime)
