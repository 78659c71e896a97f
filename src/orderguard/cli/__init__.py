"""The `orderguard` command line (Typer). Each group lives in its own module."""
