"""Use cases of the settlement service: load, decide, record, in one unit of work."""
