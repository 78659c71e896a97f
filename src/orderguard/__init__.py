"""orderguard: insider-threat controls, audit and surveillance for a trading firm's order flow."""

__version__ = "0.1.0"
