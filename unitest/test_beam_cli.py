"""`image-captioning beam` end to end on the DirectRunner: our options, Beam's options passed through, a model
shared between processes (`--model-copies`), the printed counts and the files under the output prefix."""

import json
from pathlib import Path

import pytest

pytest.importorskip("apache_beam")

from image_captioning.cli import main  # noqa: E402
from image_captioning.cli.main import build_parser  # noqa: E402

DEMO_MODEL = Path(__file__).resolve().parent.parent / "pretrained_models" / "shapes-demo"


def test_beam_options_pass_through_and_ours_are_parsed():
    args = build_parser().parse_args(["beam", "--input", "a/*.jpg", "--input", "gs://b/c/**", "--output", "out/",
                                      "--runner", "DataflowRunner", "--project=p", "--frames", "3", "--region", "r"])
    assert args.input == ["a/*.jpg", "gs://b/c/**"] and args.output == "out/" and args.frames == 3
    assert args.pipeline_args == ["--runner", "DataflowRunner", "--project=p", "--region", "r"]


def test_beam_command_with_a_shared_model(shared_data, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    argv = ["beam", "--input", str(shared_data / "images" / "apple.jpg"), "--input", str(shared_data / "videos" / "tree.avi"),
            "--input", str(bad), "--output", str(tmp_path / "run"), "--model", str(DEMO_MODEL), "--frames", "2",
            "--max-length", "8", "--strategy", "greedy", "--batch-size", "4", "--model-copies", "1",
            "--runner", "DirectRunner", "--direct_num_workers=1"]
    assert main(argv) == 1  # one input failed
    assert "3 inputs: 2 captioned, 1 errors (3 frames)" in capsys.readouterr().out
    captions = [json.loads(line) for path in tmp_path.glob("run-captions-*.jsonl") for line in path.read_text().splitlines()]
    errors = [json.loads(line) for path in tmp_path.glob("run-errors-*.jsonl") for line in path.read_text().splitlines()]
    assert sorted(c["kind"] for c in captions) == ["image", "video"] and all(c["ok"] for c in captions)
    assert [(e["source"], e["kind"]) for e in errors] == [(str(bad), "image")] and "not a recognised image" in errors[0]["reason"]
    srt = (tmp_path / "run-videos" / "tree.srt").read_text()
    assert srt.count(" --> ") == 2 and srt.startswith("1\n00:00:00,000 --> ")
