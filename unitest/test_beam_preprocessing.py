"""The Beam pipeline preprocesses exactly as `predict`: its eager `clip_pixels` equals, value for value, the
pixels `predict`'s tf.data stage hands to the encoder (the reason Beam and `predict` captions match)."""

import numpy as np
import pytest

pytest.importorskip("apache_beam")

from image_captioning.beam.decoding import clip_pixels  # noqa: E402
from image_captioning.media.images import load_image  # noqa: E402
from image_captioning.pipeline.captioning_pipeline import run_pipeline  # noqa: E402
from image_captioning.results import Caption  # noqa: E402


@pytest.mark.parametrize("resolution", [224, 64])
def test_clip_pixels_equal_predicts_tf_data_pixels(shared_data, resolution):
    photos = sorted(str(p) for p in (shared_data / "images").iterdir())
    received = []

    def encode(pixels):
        received.extend(pixels)
        return np.zeros((len(pixels), 4), np.float32)

    results = list(run_pipeline(photos, encode, lambda rows: [[Caption("", 0.0, [])] for _ in rows],
                                resolution=resolution, batch_size=1, decode_workers=1, progress=False))
    assert [r.ok for r in results] == [True] * len(photos) and len(received) == len(photos)
    for path, pixels in zip(photos, received):
        ours = clip_pixels(load_image(path), resolution)
        assert ours.dtype == np.float32 and ours.shape == (resolution, resolution, 3)
        np.testing.assert_array_equal(ours, pixels, err_msg=path)
