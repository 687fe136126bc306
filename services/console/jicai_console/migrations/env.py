from jicai_console.adapters.tables import metadata
from jicai_kit.migrations import run_env

run_env(metadata)
