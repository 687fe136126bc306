"""I/O edges of the alerts service: database tables, projections, outgoing events, policy, metrics."""
