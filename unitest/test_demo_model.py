"""The shipped shapes-demo model (trained by our own `train` command) on scenes it never saw:
a fresh seed, so none of these images were in its training data."""

import pytest

from image_captioning import ClipCap
from image_captioning.datasets import read_dataset
from image_captioning.evaluation.evaluate_model import evaluate_model
from image_captioning.synthetic import generate_scenes

pytestmark = pytest.mark.real_size
MARGIN = 1.3  # model CIDEr must exceed the constant-caption baseline's by this factor


def test_demo_model_beats_constant_baseline_on_unseen_scenes(tmp_path):
    dataset = generate_scenes(tmp_path / "scenes", num_images=60, num_videos=0, seed=987654, image_size=96)
    records = read_dataset(dataset.captions_csv, "folder_csv")
    table = evaluate_model(ClipCap.from_pretrained("shapes-demo"), records, tmp_path / "eval")  # its default: beam 3
    model, baseline = table["model"], table["constant baseline"]
    print(f"unseen scenes: model CIDEr {model['CIDEr']:.3f} BLEU-4 {model['Bleu_4']:.3f}; "
          f"baseline CIDEr {baseline['CIDEr']:.3f} BLEU-4 {baseline['Bleu_4']:.3f}")
    assert model["CIDEr"] > MARGIN * baseline["CIDEr"]
    for metric in ("Bleu_4", "METEOR", "ROUGE_L"):
        assert model[metric] > baseline[metric], metric
