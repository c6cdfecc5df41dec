"""Contrastive CLIP pretraining: the loss, recall@k, and a tiny `train-clip` run that learns."""

import json

import numpy as np
import pytest
from keras import ops

from image_captioning.cli import main
from image_captioning.training.clip_checkpoint import load_image_encoder, load_text_encoder
from image_captioning.training.contrastive_model import SymmetricInfoNCE
from image_captioning.training.retrieval import retrieval_recall


def test_info_nce_is_log_batch_for_uniform_logits_and_small_for_a_sharp_diagonal():
    loss = SymmetricInfoNCE()
    assert float(loss(np.zeros(8), ops.zeros((8, 8)))) == pytest.approx(np.log(8), rel=1e-5)
    assert float(loss(np.zeros(8), 20.0 * ops.eye(8))) < 1e-6
    # Each direction is scored: a matrix right only row-wise (image->text) still pays text->image.
    logits = np.array([[5.0, 0.0], [10.0, 5.0]], dtype=np.float32)
    rows = -np.log(np.exp(5) / (np.exp(5) + 1)) + -np.log(np.exp(5) / (np.exp(10) + np.exp(5)))
    columns = -np.log(np.exp(5) / (np.exp(5) + np.exp(10))) + -np.log(np.exp(5) / (np.exp(5) + 1))
    assert float(loss(np.zeros(2), logits)) == pytest.approx((rows + columns) / 4, rel=1e-5)


def test_retrieval_recall_counts_hits_both_ways_and_treats_equal_keys_as_hits():
    images = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    texts = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    recall = retrieval_recall(images, texts, ks=(1, 2))
    assert recall["image_to_text_R@1"] == pytest.approx(2 / 3)  # image 2 finds text 0 first
    assert recall["image_to_text_R@2"] == pytest.approx(2 / 3)  # texts 1 and 2 tie at cosine 0.1: stable order picks 1
    assert recall["text_to_image_R@1"] == pytest.approx(2 / 3)  # text 2 finds image 1
    same = retrieval_recall(images, texts, keys=["a", "b", "a"])
    assert same["image_to_text_R@1"] == 1.0 and same["chance_R@1"] == pytest.approx((2 + 1 + 2) / 9)


def test_tiny_train_clip_run_lifts_recall_well_above_chance(tmp_path):
    out = tmp_path / "clip"
    overrides = {
        "data.num_images": 400, "data.image_size": 32,
        "model.image_encoder.input_resolution": 32, "model.image_encoder.stem_filters": 8, "model.image_encoder.num_heads": 2,
        "model.image_encoder.output_dim": 32, "model.text_encoder.output_dim": 32,
        "train.epochs": 16, "train.batch_size": 32, "train.learning_rate": 0.003, "train.warmup_steps": 5,
    }
    args = ["train-clip", "--tiny", "--out", str(out)] + [arg for k, v in overrides.items() for arg in ("--set", f"{k}={v}")]
    assert main(args) == 0
    recall = json.loads((out / "retrieval.json").read_text())
    assert recall["held_out_pairs"] == 40
    for direction in ("image_to_text", "text_to_image"):
        assert recall[f"{direction}_R@1"] > 4 * recall["chance_R@1"], recall
        assert recall[f"{direction}_R@5"] > recall[f"{direction}_R@1"] or recall[f"{direction}_R@1"] == 1.0
    # The saved encoders load back for the captioning stage.
    assert load_image_encoder(out / "clip").output_dim == 32
    assert load_text_encoder(out / "clip").output_dim == 32


def test_train_starts_from_the_clip_encoder_and_keeps_it_frozen(tmp_path):
    from image_captioning import ClipCap

    clip_out, cap_out = tmp_path / "clip", tmp_path / "cap"
    small = ["--set", "model.image_encoder.input_resolution=32", "--set", "model.image_encoder.num_heads=2",
             "--set", "model.image_encoder.stem_filters=8", "--set", "data.image_size=32"]
    assert main(["train-clip", "--tiny", "--out", str(clip_out), "--set", "train.epochs=1"] + small) == 0
    assert main(["train", "--tiny", "--out", str(cap_out), "--set", f"train.init_image_encoder={clip_out / 'clip'}",
                 "--set", "train.train_image_encoder=false", "--set", "data.captions=canonical",
                 "--set", "data.image_size=32", "--set", "train.epochs=1"]) == 0
    trained = ClipCap.from_pretrained(cap_out / "model").model.image_encoder
    expected = load_image_encoder(clip_out / "clip")
    assert trained.input_resolution == 32  # the CLIP run's encoder config, not the preset's 64 px
    for got, want in zip(trained.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(got, want)
    captions = (cap_out / "data" / "captions.csv").read_text()
    assert "scene_00000.png" in captions


def test_hard_negative_batches_group_look_alike_captions_without_duplicates():
    from image_captioning.training.hard_negatives import caption_neighbours, grouped_batches

    kinds, colours, places = ("circle", "square", "star"), ("red", "blue", "green", "pink"), ("on the left", "at the top")
    captions = [f"a large {c} {k} {p}" for k in kinds for c in colours for p in places] * 2  # each caption twice
    words = sorted({w for caption in captions for w in caption.split()})
    token_ids = np.array([[words.index(w) + 1 for w in caption.split()] for caption in captions])
    neighbours = caption_neighbours(token_ids, 6)
    anchor = captions.index("a large red circle on the left")
    # Nearest first: the same caption (the duplicate), then captions one word away.
    assert captions[neighbours[anchor][0]] == captions[anchor]
    assert all(sum(a != b for a, b in zip(captions[i].split(), captions[anchor].split())) == 1 for i in neighbours[anchor][1:6])
    batches = grouped_batches(captions, neighbours, 8, 4, 20, np.random.default_rng(0))
    assert batches.shape == (20, 8)
    for batch in batches:
        assert len({captions[i] for i in batch}) == 8  # never two images with the same caption in a batch
    with pytest.raises(ValueError, match="distinct captions"):
        grouped_batches(captions, neighbours, 30, 4, 1, np.random.default_rng(0))
