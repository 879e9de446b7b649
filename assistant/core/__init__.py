"""Cross-cutting infrastructure: configuration, logging, request context."""
