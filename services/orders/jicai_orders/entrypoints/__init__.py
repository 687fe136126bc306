"""Ways into the orders service: HTTP API and the contracts event handlers."""
