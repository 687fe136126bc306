"""Use cases of the contracts service: load, decide, record, in one unit of work."""
