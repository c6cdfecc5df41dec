"""GPT-2 decoder driven by input embeddings, with a key/value cache.

Built on keras-hub's `GPT2Backbone` so that its layers (and keras-hub GPT-2 presets) are reused
as they are. keras-hub's `GPT2CausalLM` can only start from token ids; ClipCap starts from prefix
embeddings, so this class drives the backbone's embedding, transformer and norm layers itself.
"""

import keras
import keras_hub
from keras import ops


# The constructor arguments GPT2Decoder shares with keras-hub's GPT2Backbone, in both their names.
BACKBONE_ARGUMENTS = (
    "vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "max_sequence_length", "dropout",
)


@keras.saving.register_keras_serializable(package="custom_architectures")
class GPT2Decoder(keras.Model):
    """GPT-2 language model that reads embeddings and returns next-token logits.

    Args:
        vocabulary_size: number of tokens (50257 for OpenAI GPT-2).
        num_layers: transformer blocks (12 for GPT-2 124M).
        num_heads: attention heads per block.
        hidden_dim: width of the residual stream (768 for GPT-2 124M).
        intermediate_dim: width of the feed-forward layer (4 * hidden_dim).
        max_sequence_length: number of learned positions (1024).
        dropout: dropout rate used in training.

    Example:
    ```python
    decoder = GPT2Decoder(vocabulary_size=50257, num_layers=12, num_heads=12,
                          hidden_dim=768, intermediate_dim=3072)
    embeds = decoder.embed_tokens(ops.array([[15496, 995]]))
    logits = decoder(embeds)                       # (1, 2, 50257)
    cache = decoder.init_cache(batch_size=1, max_length=16)
    hidden, cache = decoder.call_with_cache(embeds, cache, 0)
    next_logits = decoder.logits(hidden[:, -1:])   # (1, 1, 50257)
    ```
    """

    def __init__(
        self,
        vocabulary_size=50257,
        num_layers=12,
        num_heads=12,
        hidden_dim=768,
        intermediate_dim=3072,
        max_sequence_length=1024,
        dropout=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.backbone = keras_hub.models.GPT2Backbone(
            vocabulary_size=vocabulary_size,
            num_layers=num_layers,
            num_heads=num_heads,
            hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim,
            dropout=dropout,
            max_sequence_length=max_sequence_length,
            dtype=self.dtype_policy,
            name="backbone",
        )
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.dropout = dropout
        self.built = True  # every variable exists once the backbone is constructed

    @classmethod
    def from_keras_hub_preset(cls, preset):
        """Loads a keras-hub GPT-2 preset (a name or a local preset folder)."""
        backbone = keras_hub.models.GPT2Backbone.from_preset(preset)
        decoder = cls(**{name: getattr(backbone, name) for name in BACKBONE_ARGUMENTS})
        decoder.backbone.set_weights(backbone.get_weights())
        return decoder

    def embed_tokens(self, token_ids):
        return self.backbone.token_embedding(token_ids)

    def logits(self, hidden_states):
        """Projects final hidden states onto the (tied) token embedding."""
        return self.backbone.token_embedding(hidden_states, reverse=True)

    def call(self, inputs_embeds, padding_mask=None, training=False):
        """Full-sequence logits, causal, for training and reference checks."""
        x = self._add_positions(inputs_embeds, 0, training)
        for block in self.backbone.transformer_layers:
            x = block(x, decoder_padding_mask=padding_mask, training=training)
        return self.logits(self.backbone.layer_norm(x))

    def init_cache(self, batch_size, max_length):
        """Empty cache: (batch, layers, key/value, max_length, heads, head_dim)."""
        head_dim = self.hidden_dim // self.num_heads
        shape = (batch_size, self.num_layers, 2, max_length, self.num_heads, head_dim)
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, inputs_embeds, cache, cache_update_index):
        """Runs `inputs_embeds` at positions starting at `cache_update_index`.

        Returns `(hidden_states, cache)`: final-norm hidden states for the given positions and the
        cache with their keys and values written in.
        """
        x = self._add_positions(inputs_embeds, cache_update_index, False)
        next_caches = []
        for i, block in enumerate(self.backbone.transformer_layers):
            x, layer_cache = block(
                x,
                self_attention_cache=cache[:, i, ...],
                self_attention_cache_update_index=cache_update_index,
            )
            next_caches.append(layer_cache)
        return self.backbone.layer_norm(x), ops.stack(next_caches, axis=1)

    def _add_positions(self, inputs_embeds, start_index, training):
        positions = self.backbone.position_embedding(inputs_embeds, start_index=start_index)
        return self.backbone.embeddings_dropout(inputs_embeds + positions, training=training)

    def get_config(self):
        return {**super().get_config(), **{name: getattr(self, name) for name in BACKBONE_ARGUMENTS}}
