"""What made a run's training shorter than the paper's: the one reading of a run's training options, shared by
the leaderboard's HTML and `probe reproduce`'s report."""

from __future__ import annotations

# Presets that train with the paper's budget (paper-text differs only in the lr schedule's reading).
FULL_BUDGET_PRESETS = ("paper", "paper-text")


def shortened_training(training_config: dict) -> list[str]:
    """["preset cpu", "epochs 1", ...] from a run's train_config.json or its export's training record (which
    records its whole preset as a dict); [] for a run with the paper's budget or a config without a preset."""
    marks = []
    preset = training_config.get("preset")
    preset = preset.get("name") if isinstance(preset, dict) else preset
    if preset is not None and preset not in FULL_BUDGET_PRESETS:
        marks.append(f"preset {preset}")
    for option in ("epochs", "max_train_sentences"):
        if training_config.get(option) is not None:
            marks.append(f"{option.replace('_', '-')} {training_config[option]}")
    return marks
