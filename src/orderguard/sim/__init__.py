"""Synthetic trading days in the v1 event format: seeded, reproducible, clean of abuse by construction.

Planted abuse for detector tests lives beside this (scenarios, labels) and builds on generate_day.
"""

from orderguard.sim.day import EVENT_MIX, SimDay, generate_day
from orderguard.sim.population import Population, scaled_size, synthetic_firm

__all__ = ["EVENT_MIX", "Population", "SimDay", "generate_day", "scaled_size", "synthetic_firm"]
