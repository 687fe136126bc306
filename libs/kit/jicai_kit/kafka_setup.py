"""``jicai-kafka-setup``: create the platform's topics and grant each service's Kafka user its ACLs.

Run as the Kafka admin user (``KAFKA_USERNAME=admin``, ``KAFKA_PASSWORD_FILE``,
``KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT`` or ``SASL_SSL``); running it again
changes nothing. The grants are ``jicai_events.acls``.
"""
from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from jicai_events.acls import apply, platform_acls
from jicai_events.topics import NAMESPACE_ENV
from jicai_kit.settings import KafkaSettings


def cli() -> None:
    def main(namespace: Annotated[str, typer.Option(envvar=NAMESPACE_ENV, help="topic and group prefix")] = "") -> None:
        asyncio.run(apply(KafkaSettings().kafka(), namespace))
        typer.echo(f"topics and {len(platform_acls(namespace))} ACLs in place")

    typer.run(main)
