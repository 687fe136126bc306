"""Use cases of the alerts service: load, decide, record, in one unit of work."""
