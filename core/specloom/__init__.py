"""Specloom: specification documents in, working and tested applications out."""

__version__ = "0.1.0"
