"""``python -m jicai_devstack ...``: see :mod:`jicai_devstack.cli`."""

from .cli import app

app(prog_name="python -m jicai_devstack")
