"""HTTP plumbing: the ASGI edge, the two answers (compat), OpenAPI, limits, the server,
draining, metrics, tracing and API-key auth."""
