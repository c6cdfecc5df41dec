"""Training: the official loss, resume == uninterrupted, guards for official bugs #33 and #34,
embedding precompute with resume, presets and overrides, loss falls."""

import json

import h5py
import numpy as np
import pytest
from keras import ops

from image_captioning.training import train
from image_captioning.training.caption_loss import IGNORED_TOKEN, CaptionLoss
from image_captioning.training.caption_tokens import tokenize_captions
from image_captioning.training.embedding_cache import load_embeddings, precompute_embeddings
from image_captioning.training.train_config import TINY_OVERRIDES, apply_overrides, load_training_preset, parse_override
from image_captioning.training.training_data import CaptionExamples, batch_stream
from image_captioning.training.warmup_schedule import WarmupLinearDecay
from image_captioning.tokenizer import load_tokenizer


def tiny_config(**overrides):
    return apply_overrides(load_training_preset("shapes-demo"), {**TINY_OVERRIDES, **overrides})


def test_caption_loss_is_mean_cross_entropy_of_caption_tokens():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3 + 4, 11)).astype("float32")  # prefix 3, caption 4
    labels = np.array([[1, 2, 3, IGNORED_TOKEN], [4, 5, IGNORED_TOKEN, IGNORED_TOKEN]])
    expected = []
    for row in range(2):
        for t in range(4):
            if labels[row, t] != IGNORED_TOKEN:
                step = logits[row, 3 - 1 + t]
                expected.append(np.log(np.exp(step).sum()) - step[labels[row, t]])
    actual = float(ops.convert_to_numpy(CaptionLoss(prefix_length=3)(labels, logits)))
    assert actual == pytest.approx(np.mean(expected), rel=1e-5)


def test_warmup_then_linear_decay():
    schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
    values = [float(ops.convert_to_numpy(schedule(step))) for step in (0, 5, 10, 60, 110, 200)]
    assert values == pytest.approx([0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], abs=1e-9)


def test_padding_mask_comes_from_lengths_and_survives_epochs():
    """Official bug #34: the mask became all ones after the first epoch."""
    tokenizer = load_tokenizer()
    captions = ["a red circle.", "a small blue square on the left of a green star.", "x"] * 4
    token_ids, labels, mask = tokenize_captions(tokenizer, captions, max_length=8, end_token_id=50256)
    lengths = [min(len(ids) + 1, 8) for ids in tokenizer(captions)]
    assert mask.sum(axis=1).tolist() == lengths
    assert ((labels != IGNORED_TOKEN) == (mask == 1)).all()
    examples = CaptionExamples(np.eye(12, dtype="float32"), "clip_embedding", np.arange(12), token_ids, labels, mask)
    seen = {}
    for inputs, batch_labels in batch_stream(examples, batch_size=4, seed=0).take(3 * 4):  # four epochs
        for row in range(4):
            medium = int(np.argmax(inputs["clip_embedding"][row]))
            pair = (inputs["padding_mask"][row].numpy().tolist(), batch_labels[row].numpy().tolist())
            assert seen.setdefault(medium, pair) == pair
            assert sum(pair[0]) == lengths[medium]
    assert len(seen) == 12


def test_batch_stream_resumes_at_the_same_batch():
    examples = CaptionExamples(np.arange(10, dtype="float32")[:, None], "clip_embedding", np.arange(10),
                               np.zeros((10, 2), "int32"), np.zeros((10, 2), "int32"), np.ones((10, 2), "int32"))
    full = [b[0]["clip_embedding"].numpy().ravel().tolist() for b in batch_stream(examples, 3, seed=7).take(9)]
    resumed = [b[0]["clip_embedding"].numpy().ravel().tolist() for b in batch_stream(examples, 3, seed=7, start_step=5).take(4)]
    assert resumed == full[5:]
    assert sorted(sum(full[:3], [])) != sorted(sum(full[3:6], [])) or full[:3] != full[3:6]


def test_embedding_precompute_resumes_and_records_bad_files(tmp_path, shared_data):
    paths = [shared_data / "images" / name for name in ("fruits.jpg", "orange.jpg", "apple.jpg")]
    bad = tmp_path / "broken.jpg"
    bad.write_text("not an image")
    paths = [str(p) for p in paths[:2]] + [str(bad)] + [str(paths[2])]
    calls = []

    def encode(images):
        calls.append(len(images))
        if len(calls) == 2 and interrupt:
            raise KeyboardInterrupt
        return images.mean(axis=(1, 2))

    interrupt = True
    with pytest.raises(KeyboardInterrupt):
        precompute_embeddings(paths, encode, 32, tmp_path / "cache", shard_size=2)
    assert len(list((tmp_path / "cache").glob("embeddings-*.npz"))) == 1
    interrupt, calls[:] = False, []
    _, embeddings, errors = precompute_embeddings(paths, encode, 32, tmp_path / "cache", shard_size=2)
    assert calls == [1]  # only the second shard (one readable image) was encoded again
    assert list(errors) == [2] and "broken.jpg" in errors[2]
    assert np.isnan(embeddings[2]).all() and not np.isnan(embeddings[[0, 1, 3]]).any()
    _, reloaded, _ = load_embeddings(tmp_path / "cache")
    np.testing.assert_array_equal(reloaded, embeddings)


def test_overrides_and_presets():
    assert parse_override("train.epochs=3") == ("train.epochs", 3)
    assert parse_override("data.path=some/file.csv") == ("data.path", "some/file.csv")
    config = apply_overrides(load_training_preset("shapes-demo"), {"train.learning_rate": 0.1})
    assert config["train"]["learning_rate"] == 0.1
    with pytest.raises(KeyError, match="no section 'nope'"):
        apply_overrides(config, {"nope.x": 1})
    for name in ("coco-mlp", "coco-transformer"):
        assert load_training_preset(name)["model"]["decoder"]["hidden_dim"] == 768


def weights_of(captioner):
    return [ops.convert_to_numpy(v) for v in captioner.model.weights]


def test_resumed_training_equals_uninterrupted(tmp_path):
    config = tiny_config(**{"train.epochs": 2})
    uninterrupted = train(config, tmp_path / "a", verbose=0)
    train(config, tmp_path / "b", stop_after_epochs=1, verbose=0)
    state = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    assert state["epochs_done"] == 1
    resumed = train(config, tmp_path / "b", verbose=0)
    for a, b in zip(weights_of(uninterrupted), weights_of(resumed)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    history = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())["history"]
    assert len(history["loss"]) == 2
    assert (tmp_path / "b" / "loss.png").stat().st_size > 0 and (tmp_path / "b" / "logs").is_dir()


def test_prefix_normalisation_is_part_of_the_model(tmp_path):
    """Official bug #33: training normalised the prefix, inference did not. Here the model does it."""
    config = tiny_config(**{"model.normalize_prefix": True, "train.epochs": 1, "train.train_image_encoder": False})
    captioner = train(config, tmp_path / "run", verbose=0)
    model = captioner.model
    embedding = np.random.default_rng(0).standard_normal((1, model.mapper.input_dim)).astype("float32")
    tokens = np.array([[10, 11, 12]])
    logits = lambda e: ops.convert_to_numpy(model({"clip_embedding": e, "token_ids": tokens}))
    np.testing.assert_allclose(logits(embedding), logits(7.0 * embedding), atol=1e-5)
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert saved["model"]["config"]["normalize_prefix"] is True
    with h5py.File(tmp_path / "run" / "model" / "model.weights.h5") as weights:
        assert "optimizer" not in weights, "an inference folder must not carry the optimizer's slots"
    assert (tmp_path / "run" / "embeddings-train" / "manifest.json").is_file()


def test_training_loss_falls(tmp_path):
    config = tiny_config(**{"train.epochs": 4, "train.learning_rate": 0.005})
    train(config, tmp_path / "run", verbose=0)
    losses = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["history"]["loss"]
    assert losses[-1] < 0.8 * losses[0]
