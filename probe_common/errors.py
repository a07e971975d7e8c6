"""Errors that the command line turns into one-line messages.

ProbeError is the one user-error type: the CLI prints its message as one line and exits with status 2.
Any other exception is a bug and keeps its traceback. (leaderboard.errors.LeaderboardError subclasses it.)
This module imports nothing, so any part of the project can raise these without pulling in torch.
"""


class ProbeError(Exception):
    """A user-facing error: its message is one line that says what is wrong and where."""


class DataError(ProbeError):
    """A corpus file is missing or malformed."""

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = str(path), line


class TrainingDiverged(ProbeError):
    """The training loss became NaN or infinite."""


class ModelLoadError(ProbeError):
    """A run dir or export cannot be loaded as a text VAE: wrong model type, bad config, bad weights."""


class WriteError(ProbeError):
    """A file could not be written: read-only or full disk, no permission, a folder in the way."""

    def __init__(self, path, error: OSError):
        super().__init__(f"{path}: cannot write: {error.strerror or error}")
        self.path, self.errno = str(path), error.errno


def one_line(error: BaseException) -> str:
    """An exception's message on one line, for the one-line errors built from a library's multi-line ones."""
    return " ".join(str(error).split())
