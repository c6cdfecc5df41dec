"""ClipCap.predict and the caption/evaluate/train commands on a tiny random model and real files."""

import json

import numpy as np
import pytest
from PIL import Image

from custom_architectures.clipcap import build_clipcap_model
from image_captioning import ClipCap
from image_captioning.cli import main
from image_captioning.results import ImageResult, VideoResult

TINY_MODEL = {
    "image_encoder": {"type": "vit", "input_resolution": 32, "patch_size": 16, "hidden_dim": 64, "num_layers": 1, "num_heads": 1, "output_dim": 16},
    "mapper": {"type": "mlp", "prefix_length": 2},
    "decoder": {"vocabulary_size": 50257, "num_layers": 1, "num_heads": 1, "hidden_dim": 16, "intermediate_dim": 32, "max_sequence_length": 32, "dropout": 0.0},
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-model")
    ClipCap(build_clipcap_model(TINY_MODEL), {"strategy": "greedy", "max_length": 5, "stop_tokens": ["."]}).save_pretrained(directory)
    return directory


def test_predict_mixes_inputs_and_keeps_order(model_dir, shared_data):
    captioner = ClipCap.from_pretrained(model_dir)
    photo = np.asarray(Image.open(shared_data / "images" / "orange.jpg").convert("RGB"))
    inputs = [str(shared_data / "images" / "fruits.jpg"), photo, str(shared_data / "videos" / "tree.avi"), "missing.jpg",
              Image.open(shared_data / "images" / "horse.png")]
    results = captioner.predict(inputs, strategy="beam", num_beams=3, num_return_sequences=2)
    assert [type(r) for r in results] == [ImageResult, ImageResult, VideoResult, ImageResult, ImageResult]
    assert [r.ok for r in results] == [True, True, True, False, True]
    assert "missing.jpg" in str(results[3].error)
    assert all(len(r.captions) == 2 and r.captions[0].score >= r.captions[1].score for r in results if isinstance(r, ImageResult) and r.ok)
    video = results[2]
    assert len(video.segments) == 8 and video.caption.token_ids
    assert all(a.end <= b.start + 1e-6 for a, b in zip(video.segments, video.segments[1:]))


def test_caption_command_writes_subtitles_and_fails_on_bad_input(model_dir, shared_data, tmp_path, capsys):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is text")
    argv = ["caption", str(shared_data / "images" / "apple.jpg"), str(shared_data / "videos" / "tree.avi"), str(bad),
            "--model", str(model_dir), "--out", str(tmp_path / "out"), "--every", "2", "--no-progress", "--stats"]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert "2 captioned, 1 failed" in printed and "notes.jpg" in printed
    srt = (tmp_path / "out" / "tree.srt").read_text()
    assert "00:00:00,000 --> 00:00:02,000" in srt
    lines = [json.loads(line) for line in (tmp_path / "out" / "captions.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and any("error" in line and line["error"] for line in lines)
    assert main(argv[:3] + argv[4:]) == 0  # without the bad file: success


def test_bfloat16_copies_caption_through_the_api_and_the_cli(model_dir, shared_data, tmp_path, capsys):
    captioner = ClipCap.from_pretrained(model_dir, compute_dtype="bfloat16")
    assert captioner.generator.decoder.compute_dtype == "bfloat16"
    assert captioner.model.decoder.compute_dtype == "float32"  # the loaded model is left as it is
    results = captioner.predict([str(shared_data / "images" / "fruits.jpg"), "missing.jpg"])
    assert results[0].ok and results[0].caption.token_ids and not results[1].ok
    argv = ["caption", str(shared_data / "images" / "apple.jpg"), "--model", str(model_dir), "--out", str(tmp_path),
            "--no-progress", "--dtype", "bfloat16"]
    assert main(argv) == 0
    assert "1 captioned, 0 failed" in capsys.readouterr().out


def test_train_and_evaluate_commands(tmp_path, capsys):
    assert main(["train", "--tiny", "--out", str(tmp_path / "run"), "--set", "train.epochs=1"]) == 0
    assert (tmp_path / "run" / "model" / "config.json").is_file()
    assert main(["evaluate", "--model", str(tmp_path / "run" / "model"), "--data", str(tmp_path / "run" / "data" / "captions.csv"),
                 "--split", "test", "--limit", "4", "--out", str(tmp_path / "eval"), "--max-length", "8"]) == 0
    table = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert {"Bleu_4", "METEOR", "ROUGE_L", "CIDEr"} <= set(table["model"]) and "CIDEr" in table["constant baseline"]
    assert "CIDEr" in capsys.readouterr().out
    assert "<html" in (tmp_path / "eval" / "report.html").read_text().lower()
