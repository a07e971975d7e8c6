"""Small builders shared by several test modules."""

from dataclasses import dataclass, field

from vae.train import TrainConfig


def config(tmp_path, data_dir, name, **overrides) -> TrainConfig:
    """A tiny-preset training config on the real Yelp corpus, writing its run under tmp_path/name."""
    values = dict(dataset="yelp", data_dir=str(data_dir), preset="tiny", run_dir=str(tmp_path / name), progress=False)
    values.update(overrides)
    return TrainConfig(**values)


def quiet(_message):
    pass


@dataclass
class CodesEncoder:
    """An encoder stand-in: the tasks only read codes through TaskData.embed."""

    encoder_id: str = "codes"
    decoder: object = None
    text_vae: object = None
    has_representation: bool = True
    fits_on_train_split: bool = False
    training_config: dict = field(default_factory=dict)
