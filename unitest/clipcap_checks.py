"""End-to-end check shared by the tiny and real-size ClipCap tests: official files -> convert
script -> ClipCap.from_pretrained -> logits vs the PyTorch reference."""

from keras import ops

from image_captioning import ClipCap
from image_captioning.cli.convert import main as convert_main
from unitest.parity import max_abs_diff
from unitest.references.official_files import random_inputs, reference_logits, write_official_files


def converted_logits_difference(tmp_path, mapper_type, tiny):
    clipcap_path, clip_path, torch_clipcap, torch_clip = write_official_files(tmp_path, mapper_type, tiny)
    out = tmp_path / "converted"
    convert_main(["--clipcap", str(clipcap_path), "--clip", str(clip_path), "--out", str(out)])
    captioner = ClipCap.from_pretrained(out)
    model = captioner.model
    images, tokens = random_inputs(captioner.resolution, model.decoder.vocabulary_size)
    expected = reference_logits(torch_clipcap, torch_clip, images, tokens, model.normalize_prefix)
    actual = ops.convert_to_numpy(model({"clip_embedding": model.encode_images(images), "token_ids": tokens}))
    assert actual.shape == expected.shape
    return max_abs_diff(actual, expected)
