"""Errors that the command line turns into one-line messages."""


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
