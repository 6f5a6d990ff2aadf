"""notification service."""
