# The two commands of README.md: `make up` and `make test`.
.PHONY: up down status test install lint lock wheels schemas contracts contracts-check bench

install:
	@bash deploy/install.sh

up: install  ## start Kafka, PostgreSQL and the four services with demo data
	@.venv/bin/python -m jicai_devstack up --demo

down:  ## stop everything `make up` started (data is kept in .run/)
	@[ -x .venv/bin/python ] && .venv/bin/python -m jicai_devstack down || true

status:
	@.venv/bin/python -m jicai_devstack status

# Three pytest-xdist workers by default (`make test TEST_WORKERS=0`: one process), sharing one PostgreSQL and one Kafka (tests/support/infra.py);
# --dist loadfile keeps a module's tests in one worker, so its module-scoped system or broker starts once; the
# modules go out longest first, a package sharing one e2e system as one unit (tests/support/scheduling.py).
# Three workers keep both cores busy from the first test to the last (the run is CPU-bound: README): fewer leave
# them idle while services start and events travel, more only contend (2026-11-30, sixth session: 179-201 s, against 378-380 s for issue 9's baseline in the same hour).
TEST_WORKERS ?= 3

test: install lint  ## lint and type-check, then every test: unit, service (real PostgreSQL), end-to-end (real Kafka)
	@.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lock:  ## after changing a dependency in a pyproject: update uv.lock (commit it); `uv lock --upgrade-package NAME` to move one
	@.venv/bin/uv lock

wheels: install  ## the wheels of every library and service and their hashed requirements, into dist/ (what the image installs)
	@UV=.venv/bin/uv PYTHON=.venv/bin/python deploy/build-wheels.sh dist

lint:
	@.venv/bin/ruff check libs services tests deploy bench
	@.venv/bin/mypy libs/events/jicai_events libs/kit/jicai_kit libs/policy/jicai_policy deploy/devstack/jicai_devstack \
	  services/contracts/jicai_contracts services/orders/jicai_orders services/settlement/jicai_settlement services/alerts/jicai_alerts \
	  services/console/jicai_console tests bench

schemas:  ## regenerate the checked-in JSON Schemas of the integration events and the AsyncAPI document
	@.venv/bin/python -m jicai_events.schemas
	@.venv/bin/python -m jicai_events.asyncapi

contracts: schemas  ## accept the current event schemas and OpenAPI documents as the baseline (an intended break: commit the diff)
	@.venv/bin/python -m jicai_devstack.contracts accept

contracts-check:  ## list breaking changes against contracts/baseline/ (tests/unit/deploy/test_contracts_baseline.py runs it in CI)
	@.venv/bin/python -m jicai_devstack.contracts check

bench: install  ## every benchmark row with its raw baseline, 3 runs; rewrites bench/RESULTS.md (keep the machine otherwise idle)
	@.venv/bin/python -m bench
