"""I/O edges of the settlement service: database tables, projections, outgoing events, metrics."""
