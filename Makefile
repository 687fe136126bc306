# The two commands of README.md: `make up` and `make test`.
.PHONY: up down status test install lint schemas bench

install:
	@bash deploy/install.sh

up: install  ## start Kafka, PostgreSQL and the four services with demo data
	@.venv/bin/python -m jicai_devstack up --demo

down:  ## stop everything `make up` started (data is kept in .run/)
	@[ -x .venv/bin/python ] && .venv/bin/python -m jicai_devstack down || true

status:
	@.venv/bin/python -m jicai_devstack status

test: install lint  ## lint and type-check, then every test: unit, service (real PostgreSQL), end-to-end (real Kafka)
	@.venv/bin/python -m pytest

lint:
	@.venv/bin/ruff check libs services tests deploy bench
	@.venv/bin/mypy libs/events/jicai_events libs/kit/jicai_kit libs/policy/jicai_policy deploy/devstack/jicai_devstack \
	  services/contracts/jicai_contracts services/orders/jicai_orders services/settlement/jicai_settlement services/alerts/jicai_alerts

schemas:  ## regenerate the checked-in JSON Schemas of the integration events
	@.venv/bin/python -m jicai_events.schemas

bench: install  ## every benchmark row with its raw baseline, 3 runs; rewrites bench/RESULTS.md (keep the machine otherwise idle)
	@.venv/bin/python -m bench
