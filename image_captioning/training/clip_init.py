"""Random initial values for the CLIP weights that the encoders create as zeros.

The encoders start their positional embeddings and projections at zero because they are usually
overwritten by converted OpenAI weights. Trained from scratch, a zero projection gives every text
the same (zero) embedding and a zero attention-pool position table makes the pooled image feature
blind to where a token lies, so these get the random values of OpenAI's `initialize_parameters`.
"""

import numpy as np

from custom_architectures.clip import CLIPModifiedResNet, CLIPTextEncoder, CLIPVisionTransformer


def initialize_from_scratch(encoder, seed=0):
    """Fills an encoder's zero-initialised weights in place with CLIP's random initial values.

    Args:
        encoder: a CLIPTextEncoder, CLIPModifiedResNet or CLIPVisionTransformer.
        seed: NumPy seed, so that the same seed gives the same weights.

    Example:
    ```python
    text_encoder = initialize_from_scratch(CLIPTextEncoder(32, 50257, 64, 2, 2, 64), seed=0)
    ```
    """
    rng = np.random.default_rng(seed)

    def set_normal(variable, std):
        variable.assign(rng.normal(0.0, std, size=tuple(variable.shape)).astype(np.float32))

    if isinstance(encoder, CLIPTextEncoder):
        set_normal(encoder.token_embedding.embeddings, 0.02)
        set_normal(encoder.positional_embedding, 0.01)
        set_normal(encoder.text_projection, encoder.hidden_dim**-0.5)
    elif isinstance(encoder, CLIPModifiedResNet):
        set_normal(encoder.attnpool.positional_embedding, encoder.attnpool.hidden_dim**-0.5)
    elif isinstance(encoder, CLIPVisionTransformer):
        scale = encoder.hidden_dim**-0.5
        for variable in (encoder.class_embedding, encoder.positional_embedding, encoder.proj):
            set_normal(variable, scale)
    else:
        raise TypeError(f"{type(encoder).__name__} is not a CLIP encoder")
    return encoder
