"""Pytest plugin (registered as `webrana`): real PostgreSQL and Redis for every test."""
