"""Training methods: each is a sequence of stages, a stage is an objective + a KL-weight schedule."""

from __future__ import annotations

from dataclasses import dataclass

from probe_common.errors import ProbeError

from .objectives import (
    Autoencoder,
    ConstantWeight,
    CyclicWeight,
    ELBO,
    FreeBits,
    FreeBitsTotal,
    IWAE,
    KLSchedule,
    KL_SCHEDULES,
    LanguageModel,
    LinearAnneal,
    OBJECTIVES,
    Objective,
)


LR_SCHEDULES = ("plateau", "cosine-cycles")


@dataclass(frozen=True)
class Stage:
    """Kinds, not values: the Trainer builds the objective with the run's lam / k / free_bits_per and the
    schedule with the run's batches per epoch when the stage starts."""

    objective: type[Objective]  # one of vae.objectives.OBJECTIVES
    kl_schedule: type[KLSchedule] = ConstantWeight  # one of vae.objectives.KL_SCHEDULES
    kl_start: float = 0.0  # LinearAnneal: the weight rises from this value to 1
    aggressive: bool = False  # He et al. 2019's encoder-first inner loop
    reset_decoder: bool = False  # keep the previous stage's encoder, re-initialise the decoder
    # "plateau": the paper's SGD loop (halve the lr on a validation plateau, stop after max_decays);
    # "cosine-cycles": Liu et al.'s Adam whose lr follows a cosine within each KL cycle, for a fixed number of epochs.
    lr_schedule: str = "plateau"

    def __post_init__(self) -> None:
        # A misspelt kind fails here, when the method table is defined, instead of training at weight 1.
        if self.objective not in OBJECTIVES:
            raise TypeError(f"Stage objective must be one of {', '.join(o.__name__ for o in OBJECTIVES)}, "
                            f"got {self.objective!r}")
        if self.kl_schedule not in KL_SCHEDULES:
            raise TypeError(f"Stage kl_schedule must be one of {', '.join(k.__name__ for k in KL_SCHEDULES)}, "
                            f"got {self.kl_schedule!r}")
        if self.kl_start and self.kl_schedule is not LinearAnneal:
            raise ValueError(f"Stage kl_start is the start of a LinearAnneal, not of {self.kl_schedule.__name__}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"Stage lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    stages: tuple[Stage, ...]

    @property
    def uses_lam(self) -> bool:
        return any(stage.objective.uses_lam for stage in self.stages)

    @property
    def has_latent(self) -> bool:
        return all(stage.objective.has_latent for stage in self.stages)

    @property
    def starts_with_autoencoder(self) -> bool:
        """Its first stage trains an autoencoder, which runs with the same settings share (vae/autoencoder_stage.py)."""
        return self.stages[0].objective is Autoencoder


AUTOENCODER = Stage(Autoencoder)

METHODS: dict[str, Method] = {m.name: m for m in (
    Method("pretrain-fb", "Li et al. 2019: AE-pretrained encoder, new decoder, per-dimension free bits, annealed",
           (AUTOENCODER, Stage(FreeBits, LinearAnneal, reset_decoder=True))),
    Method("vae", "plain ELBO", (Stage(ELBO),)),
    Method("anneal", "KL weight 0 -> 1 over the first epochs (Bowman et al. 2016)", (Stage(ELBO, LinearAnneal),)),
    # Table 10's "+ cyclic": Liu et al.'s text code, optimiser included; "+ cyclic (SGD)": the paper's SGD loop.
    Method("cyclic", "cyclic KL weight with Liu et al. 2019's Adam and cosine lr cycles",
           (Stage(ELBO, CyclicWeight, lr_schedule="cosine-cycles"),)),
    Method("cyclic-sgd", "cyclic KL weight (Liu et al. 2019) with the paper's SGD loop", (Stage(ELBO, CyclicWeight),)),
    # He et al.'s text command: --aggressive 1 --warm_up 10 --kl_start 0.1 (vae-lagging-encoder README.md).
    Method("aggressive", "aggressive encoder updates (He et al. 2019), KL weight 0.1 -> 1",
           (Stage(ELBO, LinearAnneal, kl_start=0.1, aggressive=True),)),
    Method("fb", "per-dimension free bits, no pretraining (Kingma et al. 2016)", (Stage(FreeBits),)),
    Method("fbp", "free bits on the whole KL (Pelsmaeker and Aziz 2019)", (Stage(FreeBitsTotal),)),
    Method("ae", "autoencoder: no KL term", (AUTOENCODER,)),
    Method("lm", "LSTM language model, no latent variable", (Stage(LanguageModel),)),
    Method("iwae", "importance-weighted autoencoder, k = 10 (Burda et al. 2016)", (Stage(IWAE),)),
    Method("pretrain", "AE-pretrained encoder, new decoder, plain ELBO", (AUTOENCODER, Stage(ELBO, reset_decoder=True))),
    Method("pretrain-anneal", "AE-pretrained encoder, new decoder, KL annealing",
           (AUTOENCODER, Stage(ELBO, LinearAnneal, reset_decoder=True))),
)}


DEFAULT_METHOD = "pretrain-fb"


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ProbeError(f"--method {name}: unknown method; choose one of {', '.join(METHODS)}")
    return METHODS[name]
