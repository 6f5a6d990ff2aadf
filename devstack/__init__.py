"""The local fleet: `webrana up` runs every service of this checkout, its workers and the sandbox
stand-ins on one machine, with embedded PostgreSQL and Redis. See devstack/README.md."""
