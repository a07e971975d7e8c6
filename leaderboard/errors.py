"""The one exception type the leaderboard raises for bad data or bad requests."""

from vae.errors import ProbeError  # the project's user-error type (a module without imports: no torch here)


class LeaderboardError(ProbeError):
    """A leaderboard file or request is invalid.

    Messages are one line and name the file (and, for JSON syntax errors, the
    line and column) so they can be shown to a user as they are.
    """
