"""I/O edges of the contracts service: database tables, projections, outgoing events."""
