"""The one exception type the leaderboard raises for bad data or bad requests."""


class LeaderboardError(Exception):
    """A leaderboard file or request is invalid.

    Messages are one line and name the file (and, for JSON syntax errors, the
    line and column) so they can be shown to a user as they are.
    """
