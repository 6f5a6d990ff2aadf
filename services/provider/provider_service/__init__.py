"""provider service."""
