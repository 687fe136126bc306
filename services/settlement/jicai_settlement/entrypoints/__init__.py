"""Ways into the settlement service: HTTP API and event handlers (run by the worker tasks)."""
