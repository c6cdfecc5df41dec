"""The LSTM baseline's language model: word embeddings, stacked LSTMs, a vocabulary projection."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class Float32Orthogonal(keras.initializers.Orthogonal):
    """Keras' orthogonal initializer computed in float32, then cast: TensorFlow has no bfloat16 QR."""

    def __call__(self, shape, dtype=None):
        return ops.cast(super().__call__(shape, dtype="float32"), dtype or "float32")


@keras.saving.register_keras_serializable(package="custom_architectures")
class LSTMDecoder(keras.Model):
    """A left-to-right LSTM language model that reads embeddings and returns next-token logits.

    It has the interface of `GPT2Decoder` that captioning uses (`embed_tokens`, `call` on
    embeddings, `logits`), so a mapped image feature is its first input, as in Show and Tell
    (Vinyals et al., 2015, https://arxiv.org/abs/1411.4555), and `ClipCapModel` joins it to an
    image encoder unchanged. `initial_state` and `step` run it one token at a time for decoding;
    an LSTM's state is its whole memory, so it needs no key/value cache.

    Every input (the mapped image and each token embedding) is layer-normalised first: the mapped
    image is tens to hundreds of times larger than Keras' small initial token embeddings.

    Args:
        vocabulary_size: number of tokens (50257 for the GPT-2 tokenizer).
        hidden_dim: units of each LSTM layer.
        embedding_dim: width of the token embeddings and of the image input (None: `hidden_dim`).
        num_layers: stacked LSTM layers.
        dropout: dropout rate on the embeddings, between layers and before the projection, in training.

    Example:
    ```python
    decoder = LSTMDecoder(vocabulary_size=50257, hidden_dim=512, num_layers=1)
    logits = decoder(decoder.embed_tokens(ops.array([[15496, 995]])))   # (1, 2, 50257)
    states = decoder.initial_state(batch_size=1)
    next_logits, states = decoder.step(embedding, states)            # embedding: (1, 512)
    ```
    """

    def __init__(self, vocabulary_size=50257, hidden_dim=512, embedding_dim=None, num_layers=1, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        embedding_dim = embedding_dim or hidden_dim
        policy = self.dtype_policy
        # === Layers ===
        self.token_embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, dtype=policy, name="token_embedding")
        self.input_norm = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="input_norm")
        self.lstm_layers = [
            keras.layers.LSTM(hidden_dim, return_sequences=True, return_state=True, dtype=policy, name=f"lstm_{i}",
                              recurrent_initializer=Float32Orthogonal())
            for i in range(num_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=policy, name="dropout")
        # Fan-in uniform, as PyTorch's nn.Linear: Glorot's fan-in + fan-out of a 50257-way projection
        # made its weights ~10x smaller; the LSTM then had to saturate to reach confident logits.
        self.token_logits = keras.layers.Dense(
            vocabulary_size, kernel_initializer=keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
            dtype=policy, name="token_logits",
        )
        self.token_embedding.build((None, None))
        self.input_norm.build((None, None, embedding_dim))
        width = embedding_dim
        for lstm in self.lstm_layers:
            lstm.build((None, None, width))
            width = hidden_dim
        self.token_logits.build((None, None, hidden_dim))
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.built = True

    def embed_tokens(self, token_ids):
        return self.token_embedding(token_ids)

    def logits(self, hidden):
        return self.token_logits(hidden)

    def call(self, embeddings, padding_mask=None, training=False):
        """embeddings (B, T, embedding_dim) -> logits (B, T, vocabulary_size).

        `padding_mask` is accepted for `GPT2Decoder`'s interface and not needed: padding only
        follows the real tokens, and a left-to-right LSTM's outputs never depend on later inputs.
        """
        x = self.input_norm(embeddings)
        for lstm in self.lstm_layers:
            x = lstm(self.dropout_layer(x, training=training), training=training)[0]
        return self.logits(self.dropout_layer(x, training=training))

    def initial_state(self, batch_size):
        """Zero (h, c) per layer, as a flat tuple (h_0, c_0, h_1, c_1, ...)."""
        zeros = ops.zeros((batch_size, self.hidden_dim), dtype=self.compute_dtype)
        return (zeros, zeros) * self.num_layers

    def step(self, embedding, states):
        """One position: embedding (B, embedding_dim) and `initial_state`-shaped states -> (logits (B, V), states)."""
        x, new_states = self.input_norm(embedding), []
        for index, lstm in enumerate(self.lstm_layers):
            x, (h, c) = lstm.cell(x, list(states[2 * index : 2 * index + 2]))
            new_states += [h, c]
        return self.logits(x), tuple(new_states)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "embedding_dim": self.embedding_dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }
