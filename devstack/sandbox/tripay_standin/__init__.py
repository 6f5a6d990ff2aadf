"""The parts of the Tripay stand-in (`devstack/sandbox/tripay.py` assembles them)."""
