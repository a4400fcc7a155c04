"""Helpers behind the client: URLs, retries, timeouts, TLS, request and response utilities."""
