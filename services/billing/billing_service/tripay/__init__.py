"""Tripay: the HTTP client, signatures, the wire models, channels and their fees."""
