"""The errors the leaderboard raises for bad data or bad requests; each message is one line naming the file."""

from probe_common.errors import ProbeError


class LeaderboardError(ProbeError):
    """A leaderboard file or request is invalid.

    Messages are one line and name the file (and, for JSON syntax errors, the
    line and column) so they can be shown to a user as they are.
    """


class MissingExamples(LeaderboardError):
    """A result's per-example file is not beside the leaderboard: its summary stands, its values are gone."""


class CorruptExamples(LeaderboardError):
    """A result's per-example file does not match its sha256, or is not a per-example file of that result."""
