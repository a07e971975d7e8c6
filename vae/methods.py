"""Training methods: each is a sequence of stages, a stage is an objective + a KL-weight schedule."""

from __future__ import annotations

from dataclasses import dataclass

from probe_common.errors import ProbeError


@dataclass(frozen=True)
class Stage:
    objective: str  # "ae" | "elbo" | "free-bits" | "free-bits-total" | "iwae" | "lm"
    kl_schedule: str = "constant"  # "constant" (weight 1) | "anneal" | "cyclic"
    kl_start: float = 0.0  # "anneal": the weight rises from this value to 1
    aggressive: bool = False  # He et al. 2019's encoder-first inner loop
    reset_decoder: bool = False  # keep the previous stage's encoder, re-initialise the decoder
    # "plateau": the paper's SGD loop (halve the lr on a validation plateau, stop after max_decays);
    # "cosine-cycles": Liu et al.'s Adam whose lr follows a cosine within each KL cycle, for a fixed number of epochs.
    lr_schedule: str = "plateau"

    @property
    def validation_objective(self) -> str:
        """What model selection and lr decay watch: Recon for the AE, NLL for the LM, the k-sample bound for
        the IWAE (text_beta.py:129-132), -ELBO otherwise."""
        return self.objective if self.objective in ("ae", "lm", "iwae") else "elbo"


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    stages: tuple[Stage, ...]

    @property
    def uses_lam(self) -> bool:
        return any(stage.objective.startswith("free-bits") for stage in self.stages)

    @property
    def has_latent(self) -> bool:
        return all(stage.objective != "lm" for stage in self.stages)


AUTOENCODER = Stage("ae")

METHODS: dict[str, Method] = {m.name: m for m in (
    Method("pretrain-fb", "Li et al. 2019: AE-pretrained encoder, new decoder, per-dimension free bits, annealed",
           (AUTOENCODER, Stage("free-bits", "anneal", reset_decoder=True))),
    Method("vae", "plain ELBO", (Stage("elbo"),)),
    Method("anneal", "KL weight 0 -> 1 over the first epochs (Bowman et al. 2016)", (Stage("elbo", "anneal"),)),
    # Table 10's "+ cyclic": Liu et al.'s text code, optimiser included; "+ cyclic (SGD)": the paper's SGD loop.
    Method("cyclic", "cyclic KL weight with Liu et al. 2019's Adam and cosine lr cycles",
           (Stage("elbo", "cyclic", lr_schedule="cosine-cycles"),)),
    Method("cyclic-sgd", "cyclic KL weight (Liu et al. 2019) with the paper's SGD loop", (Stage("elbo", "cyclic"),)),
    # He et al.'s text command: --aggressive 1 --warm_up 10 --kl_start 0.1 (vae-lagging-encoder README.md).
    Method("aggressive", "aggressive encoder updates (He et al. 2019), KL weight 0.1 -> 1",
           (Stage("elbo", "anneal", kl_start=0.1, aggressive=True),)),
    Method("fb", "per-dimension free bits, no pretraining (Kingma et al. 2016)", (Stage("free-bits"),)),
    Method("fbp", "free bits on the whole KL (Pelsmaeker and Aziz 2019)", (Stage("free-bits-total"),)),
    Method("ae", "autoencoder: no KL term", (AUTOENCODER,)),
    Method("lm", "LSTM language model, no latent variable", (Stage("lm"),)),
    Method("iwae", "importance-weighted autoencoder, k = 10 (Burda et al. 2016)", (Stage("iwae"),)),
    Method("pretrain", "AE-pretrained encoder, new decoder, plain ELBO", (AUTOENCODER, Stage("elbo", reset_decoder=True))),
    Method("pretrain-anneal", "AE-pretrained encoder, new decoder, KL annealing",
           (AUTOENCODER, Stage("elbo", "anneal", reset_decoder=True))),
)}


DEFAULT_METHOD = "pretrain-fb"


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ProbeError(f"--method {name}: unknown method; choose one of {', '.join(METHODS)}")
    return METHODS[name]
