"""Capacity services. `collect` is the only code that collects sizes."""
