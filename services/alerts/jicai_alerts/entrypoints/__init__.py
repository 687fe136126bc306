"""How the alerts service is driven: Kafka event handlers and the read-only HTTP API."""
