"""Ways into the contracts service: HTTP API and worker process."""
