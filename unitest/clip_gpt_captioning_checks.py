"""Shared by the clip-gpt-captioning tests: write an upstream-layout checkpoint, convert it through the
`convert` CLI, and compare prefixes and greedy tokens with the PyTorch reference."""

import numpy as np
import torch
from keras import ops

from image_captioning import ClipCap
from image_captioning.cli.convert import main as convert_main
from image_captioning.media.clip_preprocessing import clip_preprocess_numpy
from image_captioning.media.images import load_image
from unitest.parity import max_abs_diff
from unitest.references.clip_gpt_captioning import checkpoint_state_dict, make_reference, pooled_embeddings


def convert_reference(tmp_path, config, seed=0, legacy_buffers=False, wrap=False):
    """(PyTorch reference, converted `ClipCap`) from a checkpoint written with torch.save."""
    reference = make_reference(config, seed=seed)
    state = checkpoint_state_dict(reference, legacy_buffers)
    path = tmp_path / "model.pt"
    torch.save({"epoch": 3, "model_state_dict": state} if wrap else state, path)
    del state
    out = tmp_path / "converted"
    convert_main(["--format", "clip-gpt-captioning", "--checkpoint", str(path), "--out", str(out)])
    path.unlink()
    return reference, ClipCap.from_pretrained(out)


def photo_pixels(paths, resolution):
    return np.stack([clip_preprocess_numpy(load_image(path), resolution) for path in paths])


def prefix_difference(reference, captioner, images):
    """Max abs difference of the prefixes GPT-2 receives, from the same pixels; also returns the embeddings."""
    model = captioner.model
    expected_embeddings = pooled_embeddings(reference, images)
    embeddings = ops.convert_to_numpy(model.encode_images(images))
    with torch.no_grad():
        expected = np.stack([reference.start_embedding(torch.from_numpy(e[None])).numpy() for e in expected_embeddings])
    prefix = ops.convert_to_numpy(model.embed_prefix(embeddings))
    assert prefix.shape == expected.shape, (prefix.shape, expected.shape)
    return max(max_abs_diff(prefix, expected), max_abs_diff(embeddings, expected_embeddings)), embeddings


def greedy_tokens(reference, captioner, embeddings):
    """(reference tokens, our tokens) per embedding, each through its own pipeline's preset decoding."""
    with torch.no_grad():
        expected = [reference.greedy(torch.from_numpy(e[None])) for e in embeddings]
    ours = [captions[0].token_ids for captions in captioner.caption_embeddings(embeddings)]
    return expected, ours
