"""The built-in detectors, one module each (registry: orderguard.surveillance.registry)."""
