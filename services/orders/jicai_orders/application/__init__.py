"""Use cases of the orders service: load, decide, record, in one unit of work."""
