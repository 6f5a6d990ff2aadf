"""auth service: users, sessions, tokens, roles and the fleet's signing keys."""
