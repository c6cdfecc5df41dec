"""bfloat16 decoding at real size against float32: `CaptionGenerator(model, compute_dtype="bfloat16")`
(bfloat16 copies of CLIP ViT-B/32, the MLP mapper and GPT-2 124M) beside the float32 model it was
copied from, random weights, end to end from images.

bfloat16 keeps 8 bits of mantissa, so where the top two candidates are close the greedy choice can
change and the caption goes its own way from there. Measured on this model and these inputs (AMD
EPYC with AVX512-BF16, TensorFlow 2.21, 2026-11): 11 of 16 captions of 12 tokens equal, and the
largest logit difference (teacher-forced on the float32 captions) 0.041, with float32 logits in
[-2.80, 3.89]. The bounds below (9 of 16, 0.08) leave room for another CPU's bfloat16 kernels
rounding differently.
"""

import numpy as np
import pytest
from keras import ops

from image_captioning.generation import CaptionGenerator
from unitest.references.real_size_clipcap import real_size_vit_b32_clipcap

pytestmark = pytest.mark.real_size

NUM_CAPTIONS = 16
LENGTH = 12
MIN_EQUAL = 9
MAX_LOGIT_DIFFERENCE = 0.08


def teacher_forced_logits(clipcap_model, images, token_ids):
    """float32 logits predicting each token of `token_ids` (B, T) -> (B, T, V)."""
    prefix_length = clipcap_model.mapper.prefix_length
    logits = clipcap_model({"images": images, "token_ids": token_ids[:, :-1]})
    return ops.convert_to_numpy(ops.cast(logits, "float32"))[:, prefix_length - 1 :]


def test_bfloat16_greedy_captions_match_float32_mostly():
    _, _, model = real_size_vit_b32_clipcap(seed=0)
    images = np.random.default_rng(7).standard_normal((NUM_CAPTIONS, 224, 224, 3)).astype("float32")
    options = dict(max_length=LENGTH, stop_tokens=())
    full = CaptionGenerator(model, batch_buckets=(NUM_CAPTIONS,))
    half = CaptionGenerator(model, batch_buckets=(NUM_CAPTIONS,), compute_dtype="bfloat16")
    full_tokens = np.array([c[0].token_ids for c in full.caption_images(images, **options)])
    half_tokens = np.array([c[0].token_ids for c in half.caption_images(images, **options)])
    equal = int(np.sum(np.all(full_tokens == half_tokens, axis=1)))

    expected = teacher_forced_logits(model, images, full_tokens)
    actual = teacher_forced_logits(half.prefix_model, images, full_tokens)
    difference = float(np.max(np.abs(actual - expected)))
    print(f"bfloat16 vs float32: {equal} of {NUM_CAPTIONS} captions equal, largest logit difference "
          f"{difference:.3g} (float32 logits in [{expected.min():.2f}, {expected.max():.2f}])")
    assert equal >= MIN_EQUAL
    assert difference <= MAX_LOGIT_DIFFERENCE
