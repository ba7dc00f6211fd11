"""Fermentrack: fermentation temperature control and logging."""

__version__ = "0.1.0"
