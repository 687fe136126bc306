from jicai_kit.migrations import run_env
from jicai_orders.adapters.tables import metadata

run_env(metadata)
