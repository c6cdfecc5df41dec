"""`ClipCap.export(format="onnx" | "litert")`: the encoder and decoder-step graphs, on onnxruntime and on
LiteRT, match the Keras model (max abs diff of logits and caches) and give `CaptionGenerator`'s
greedy captions."""

import numpy as np
import pytest

from image_captioning.media.clip_preprocessing import clip_preprocess_numpy
from image_captioning.media.images import load_image
from unitest.conftest import SHARED_DATA
from unitest.parity import max_abs_diff
from unitest.test_serving_tiny_model import build_tiny_captioner

TOLERANCE = 1e-4
RUNTIMES = {"onnx": ("onnxruntime", "OnnxGreedyCaptioner"), "litert": ("ai_edge_litert", "LiteRtGreedyCaptioner")}


@pytest.fixture(scope="module")
def captioner(tmp_path_factory):
    return build_tiny_captioner(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module", params=list(RUNTIMES))
def exported(request, captioner, tmp_path_factory):
    import importlib

    package, runner = RUNTIMES[request.param]
    pytest.importorskip(package)
    if request.param == "onnx":
        pytest.importorskip("tf2onnx")
    path = captioner.export(tmp_path_factory.mktemp(request.param), format=request.param)
    module = importlib.import_module(f"image_captioning.export.{request.param}_runtime")
    return getattr(module, runner)(path)


@pytest.fixture(scope="module")
def pixels():
    photos = sorted((SHARED_DATA / "images").iterdir())
    return np.stack([clip_preprocess_numpy(load_image(str(path)), 32) for path in photos])


def test_exported_graphs_match_the_keras_model(captioner, exported, pixels):
    from image_captioning.generation.kv_cache import LayerCacheForward

    model = captioner.model
    forward = LayerCacheForward(model.decoder)
    total = model.mapper.prefix_length + exported.config["max_length"]
    prefix = model.embed_prefix(model.image_encoder(pixels))
    keras_logits, keras_memory = forward.start(prefix, total)
    logits, caches = exported.start(pixels)
    first_diff = max_abs_diff(logits, keras_logits)
    cache_diff = max(max_abs_diff(a, b) for a, b in zip(caches, keras_memory))
    tokens = np.argmax(logits, axis=-1).astype("int32")
    index = model.mapper.prefix_length
    keras_logits, _ = forward.step(keras_memory, tokens, index)
    logits, _ = exported.advance(tokens, index, caches)
    step_diff = max_abs_diff(logits, keras_logits)
    print(f"{type(exported).__name__} max abs diff: encoder logits {first_diff:.2e}, caches {cache_diff:.2e}, "
          f"step logits {step_diff:.2e}")
    assert max(first_diff, cache_diff, step_diff) < TOLERANCE


def test_exported_greedy_loop_gives_the_generator_captions(captioner, exported, pixels):
    embeddings = captioner.encode_images(pixels)
    expected = [captions[0].token_ids for captions in captioner.caption_embeddings(embeddings, strategy="greedy")]
    assert exported.generate(pixels) == expected
    assert len({tuple(ids) for ids in expected}) > 1


def test_exact_gelu_converts_and_runs_on_onnxruntime(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    import tensorflow as tf

    from image_captioning.export.onnx_graphs import convert

    gelu = tf.function(lambda x: (tf.nn.gelu(x, approximate=False),))  # TensorFlow lowers it to Erfc
    path = convert(gelu, [tf.TensorSpec((None,), tf.float32, name="x")], ["y"], tmp_path / "gelu.onnx", opset=17)
    x = np.linspace(-6, 6, 101, dtype=np.float32)
    (y,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})
    assert max_abs_diff(y, tf.nn.gelu(x, approximate=False)) < 1e-6
