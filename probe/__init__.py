"""Probe sentence encoders on the paper's tasks and keep a leaderboard."""

__version__ = "0.2.0"
