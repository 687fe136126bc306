"""Jicai dev stack: real Kafka + PostgreSQL on one machine, no Docker.

``jicai_devstack.kafka`` and ``jicai_devstack.postgres`` are importable on
their own (test fixtures use them); ``python -m jicai_devstack`` is the CLI.
"""
