from jicai_kit.migrations import run_env
from jicai_settlement.adapters.tables import metadata

run_env(metadata)
