"""Probe sentence encoders on the paper's tasks and keep a leaderboard."""

__version__ = "0.1.0"
