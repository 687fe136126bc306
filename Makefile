# The two commands of README.md: `make up` and `make test`.
.PHONY: up down status test install lint schemas

install:
	@bash deploy/install.sh

up: install  ## start Kafka, PostgreSQL and the four services with demo data
	@.venv/bin/python -m jicai_devstack up --demo

down:  ## stop everything `make up` started (data is kept in .run/)
	@[ -x .venv/bin/python ] && .venv/bin/python -m jicai_devstack down || true

status:
	@.venv/bin/python -m jicai_devstack status

test: install  ## every test: unit, service (real PostgreSQL), end-to-end (real Kafka)
	@.venv/bin/python -m pytest

lint:
	@.venv/bin/ruff check libs services tests deploy bench

schemas:  ## regenerate the checked-in JSON Schemas of the integration events
	@.venv/bin/python -m jicai_events.schemas
