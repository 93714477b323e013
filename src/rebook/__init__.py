"""Rebook: turn cancelled appointments into connecting moments."""

__version__ = "0.1.0"
