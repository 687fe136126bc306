"""I/O edges of the orders service: database tables, projections, outgoing events."""
