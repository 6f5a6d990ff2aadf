"""gateway service: the one public door of the fleet."""
