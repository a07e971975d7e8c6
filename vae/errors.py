"""The project's user errors, kept importable here for older code; they live in probe_common.errors."""

from probe_common.errors import DataError, ModelLoadError, ProbeError, TrainingDiverged, WriteError

__all__ = ["DataError", "ModelLoadError", "ProbeError", "TrainingDiverged", "WriteError"]
