"""Configuration of the LSTM text VAE (Li et al. 2019, Appendix A)."""

from transformers import PreTrainedConfig


class TextVAEConfig(PreTrainedConfig):
    model_type = "textvae"

    def __init__(
        self,
        vocab_size: int = 10_000,
        embed_dim: int = 128,
        encoder_hidden_size: int = 512,
        decoder_hidden_size: int = 512,
        latent_dim: int = 32,
        dropout_in: float = 0.5,
        dropout_out: float = 0.5,
        use_latent: bool = True,
        lstm_init_range: float = 0.01,
        embed_init_range: float = 0.1,
        method: str | None = None,
        training: dict | None = None,
        pad_token_id: int = 0,
        unk_token_id: int = 1,
        bos_token_id: int = 2,
        eos_token_id: int = 3,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.encoder_hidden_size = encoder_hidden_size
        self.decoder_hidden_size = decoder_hidden_size
        self.latent_dim = latent_dim
        self.dropout_in = dropout_in  # on the decoder's input embeddings
        self.dropout_out = dropout_out  # before the decoder's output layer
        self.use_latent = use_latent  # False: a plain LSTM language model (the `lm` method)
        self.lstm_init_range = lstm_init_range
        self.embed_init_range = embed_init_range
        self.method = method
        self.training = training or {}  # how the model was trained: method, lam, preset, dataset, seed
        self.unk_token_id = unk_token_id
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        super().__init__(**kwargs)
