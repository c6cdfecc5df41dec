"""The matrix-product FLOPs of captioning one image, for the floor a CPU cannot beat.

Counted: every matrix product, as 2 x (weights of the product) x (positions it runs on), plus the
attention products, 4 x width x (positions attended) per query (q.k and weights.v). Not counted:
biases, layer norms, softmax, GELU and the argmax, which are element-wise and small; so the floor
(FLOPs / measured GEMM rate) is a lower bound on the time, never an estimate of it.

- ViT (CLIP image encoder): T = (resolution / patch)^2 + 1 positions (the class token); the patch
  embedding runs on T - 1 patches, each block on T positions (attention T x T), the output
  projection on the class token only.
- Mapper (ClipCap MLP): its kernels once per image.
- GPT-2, cached, `tokens` generated after a prefix of P embeddings: the blocks run on P + tokens - 1
  positions (the prefix, then every generated token but the last); the LM head (the tied
  vocabulary x width embedding) on `tokens` positions (the prefix's last, then each step); the
  position at index c (from 1) attends to c positions.
"""


def block_weights(width, intermediate):
    """Weights of one transformer block's products: q, k, v, output (4 w^2) and the MLP (2 w i)."""
    return 4 * width * width + 2 * width * intermediate


def vit_flops(resolution, patch_size, hidden_dim, num_layers, output_dim, intermediate_dim=None):
    intermediate_dim = intermediate_dim or 4 * hidden_dim
    patches = (resolution // patch_size) ** 2
    positions = patches + 1
    patch_embedding = 2 * (3 * patch_size * patch_size * hidden_dim) * patches
    blocks = num_layers * (2 * block_weights(hidden_dim, intermediate_dim) * positions + 4 * hidden_dim * positions**2)
    projection = 2 * hidden_dim * output_dim
    return patch_embedding + blocks + projection


def mlp_mapper_flops(kernel_sizes):
    """kernel_sizes: the number of weights of each Dense kernel (bias excluded)."""
    return 2 * sum(kernel_sizes)


def gpt2_cached_flops(num_layers, hidden_dim, intermediate_dim, vocabulary_size, prefix_length, tokens):
    positions = prefix_length + tokens - 1
    blocks = num_layers * 2 * block_weights(hidden_dim, intermediate_dim) * positions
    attention = num_layers * 4 * hidden_dim * sum(range(1, positions + 1))
    lm_head = 2 * vocabulary_size * hidden_dim * tokens
    return blocks + attention + lm_head


def caption_flops(image_encoder, mapper, decoder, tokens):
    """FLOPs per image of CLIP ViT + MLP mapper + cached greedy GPT-2 (`tokens` tokens), read off
    our Keras layers' hyperparameters."""
    vit = vit_flops(
        image_encoder.input_resolution,
        image_encoder.patch_size,
        image_encoder.hidden_dim,
        image_encoder.num_layers,
        image_encoder.output_dim,
    )
    mapper_kernels = [w.shape[0] * w.shape[1] for w in mapper.weights if len(w.shape) == 2]
    gpt2 = gpt2_cached_flops(
        decoder.num_layers,
        decoder.hidden_dim,
        decoder.intermediate_dim,
        decoder.vocabulary_size,
        mapper.prefix_length,
        tokens,
    )
    return {"ViT": vit, "mapper": mlp_mapper_flops(mapper_kernels), "GPT-2": gpt2}


def roofline_seconds(flops, weight_bytes, gemm_flops_per_second, bytes_per_second):
    """A pass can be no faster than its products at the GEMM rate, nor than reading its weights once."""
    return max(flops / gemm_flops_per_second, weight_bytes / bytes_per_second)


def batch1_floor(image_encoder, mapper, decoder, tokens, gemm_flops_per_second, bytes_per_second, bytes_per_weight=4):
    """Seconds per image at batch 1, greedy, `tokens` tokens: every pass at its roofline.

    Batch-1 decoding is memory-bound: each of the `tokens` GPT-2 passes (the prefix pass, then one per
    step) reads every weight of the blocks and of the tied LM head once, for a few FLOPs per weight.
    ViT (50 positions) is compute-bound; the mapper reads its weights once. Returns
    {part: seconds}, the parts summing to the floor.
    """
    vit_weights = image_encoder.num_layers * block_weights(image_encoder.hidden_dim, 4 * image_encoder.hidden_dim)
    vit_weights += 3 * image_encoder.patch_size**2 * image_encoder.hidden_dim + image_encoder.hidden_dim * image_encoder.output_dim
    vit = vit_flops(image_encoder.input_resolution, image_encoder.patch_size, image_encoder.hidden_dim,
                    image_encoder.num_layers, image_encoder.output_dim)
    mapper_weights = sum(w.shape[0] * w.shape[1] for w in mapper.weights if len(w.shape) == 2)
    gpt2_weights = decoder.num_layers * block_weights(decoder.hidden_dim, decoder.intermediate_dim)
    gpt2_weights += decoder.vocabulary_size * decoder.hidden_dim
    prefix_pass = 2 * gpt2_weights * mapper.prefix_length
    step = 2 * gpt2_weights
    rate, bandwidth, size = gemm_flops_per_second, bytes_per_second, bytes_per_weight
    return {
        "ViT": roofline_seconds(vit, vit_weights * size, rate, bandwidth),
        "mapper": roofline_seconds(2 * mapper_weights, mapper_weights * size, rate, bandwidth),
        "GPT-2 prefix": roofline_seconds(prefix_pass, gpt2_weights * size, rate, bandwidth),
        "GPT-2 steps": (tokens - 1) * roofline_seconds(step, gpt2_weights * size, rate, bandwidth),
    }
