"""`ClipCap.export(format="tf_saved_model")`: reloaded by a process that imports TensorFlow only,
it gives exactly `predict`'s captions, greedy and beam."""

import json
import subprocess
import sys
import textwrap

import pytest

from unitest.parity import max_abs_diff
from unitest.test_serving_tiny_model import build_tiny_captioner

# Runs in a fresh interpreter: TensorFlow only, no keras-hub and no project code on the path.
TF_ONLY_CLIENT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    export_dir, files = sys.argv[1], sys.argv[2:]
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    out = serve(images=tf.constant([open(f, "rb").read() for f in files]))
    print(json.dumps({
        "captions": [c.decode("utf-8", "replace") for c in out["captions"].numpy()],
        "scores": out["scores"].numpy().tolist(),
        "token_ids": [[t for t in row if t >= 0] for row in out["token_ids"].numpy().tolist()],
        "project_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("keras_hub", "image_captioning")),
    }))
    """
)


@pytest.fixture(scope="module")
def captioner(tmp_path_factory):
    return build_tiny_captioner(tmp_path_factory.mktemp("tiny"))


def run_tf_only(export_dir, files, tmp_path):
    script = tmp_path / "client.py"
    script.write_text(TF_ONLY_CLIENT)
    # cwd and sys.path hold nothing of the project: the child cannot import it even by accident.
    done = subprocess.run([sys.executable, str(script), str(export_dir), *map(str, files)], cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("options", [{"strategy": "greedy"}, {"strategy": "beam", "num_beams": 3}], ids=["greedy", "beam"])
def test_saved_model_matches_predict_in_tensorflow_only_process(captioner, options, shared_data, tmp_path):
    files = [p for p in sorted((shared_data / "images").iterdir())]
    export_dir = captioner.export(tmp_path / "saved_model", **options)
    served = run_tf_only(export_dir, files, tmp_path)
    assert served["project_modules"] == []
    expected = [result.caption for result in captioner.predict([str(f) for f in files], **options)]
    assert served["captions"] == [caption.text for caption in expected]
    assert served["token_ids"] == [caption.token_ids for caption in expected]
    assert served["scores"] == pytest.approx([caption.score for caption in expected], rel=1e-4)
    assert len(set(served["captions"])) > 1  # the images are told apart, so the comparison means something


def test_export_refuses_what_it_cannot_export(captioner, tmp_path):
    with pytest.raises(ValueError, match="strategy='sample' cannot be exported.*'greedy'"):
        captioner.export(tmp_path / "x", strategy="sample")
    with pytest.raises(ValueError, match="Unknown export format 'pickle'"):
        captioner.export(tmp_path / "x", format="pickle")
    with pytest.raises(ValueError, match="exceeds GPT-2's 32 positions"):
        captioner.export(tmp_path / "x", max_length=40)


def test_graph_image_decoding_is_bit_identical_to_predicts(shared_data):
    import tensorflow as tf

    from image_captioning.export.graph_images import preprocess_encoded_images
    from image_captioning.media.clip_preprocessing import clip_preprocess_tf
    from image_captioning.media.images import load_image

    files = sorted((shared_data / "images").iterdir())  # JPEG (4:2:0, 4:2:2, 4:4:4), RGB and grayscale PNG
    in_graph = preprocess_encoded_images(tf.constant([path.read_bytes() for path in files]), 32).numpy()
    for path, pixels in zip(files, in_graph):
        assert max_abs_diff(pixels, clip_preprocess_tf(load_image(str(path)), 32)) == 0.0, path.name
