"""order service."""
