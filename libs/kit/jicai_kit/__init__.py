"""Shared edges of every Jicai service (the domain never imports this)."""
