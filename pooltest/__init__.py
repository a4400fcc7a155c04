"""pooltest: a urllib3-compatible pooling HTTP client whose traffic tests record and replay."""
