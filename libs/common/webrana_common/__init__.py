"""WeBrana Cloud shared library: the fleet's service defaults."""
