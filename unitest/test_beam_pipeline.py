"""The Beam pipeline on the DirectRunner over ~50 real photos, videos and bad files: every count, every
caption, every error and every subtitle file against `ClipCap.predict` on the same files."""

import json
import shutil
from pathlib import Path

import pytest

beam = pytest.importorskip("apache_beam")

from image_captioning import ClipCap  # noqa: E402
from image_captioning.beam import caption_with_beam  # noqa: E402
from image_captioning.media.frame_sampling import FrameSampling  # noqa: E402

# The shipped demo model is tiny (64 px ResNet, 2-layer GPT-2) and trained, so its captions differ from
# photo to photo: a random tiny model captions every photo alike and would hide a mixed-up result.
DEMO_MODEL = Path(__file__).resolve().parent.parent / "pretrained_models" / "shapes-demo"
GENERATION = {"strategy": "greedy", "max_length": 12}
SAMPLING = FrameSampling(num_frames=4)


def build_inputs(folder: Path, shared: Path):
    """32 photos (16 + 16 copies), 4 videos (one name used twice), 7 bad files and a skipped .txt."""
    photos = sorted((shared / "images").iterdir())
    (folder / "copies").mkdir(parents=True)
    for photo in photos:
        shutil.copy(photo, folder / photo.name)
        shutil.copy(photo, folder / "copies" / photo.name)
    for video in ("tree.avi", "vtest.avi", "vtest.mp4"):
        shutil.copy(shared / "videos" / video, folder / video)
    shutil.copy(shared / "videos" / "tree.avi", folder / "copies" / "tree.avi")
    jpeg = (shared / "images" / "fruits.jpg").read_bytes()
    png = (shared / "images" / "horse.png").read_bytes()
    video = (shared / "videos" / "tree.avi").read_bytes()
    bad = {
        "notes.jpg": b"this is text, not a photo",
        "empty.png": b"",
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "truncated.png": png[: len(png) // 2],
        "garbage.avi": bytes(range(256)) * 40,
        "empty.mp4": b"",
        "cut.avi": video[: len(video) // 3],
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    (folder / "readme.txt").write_text("not media: the glob skips it")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".txt")
    return [str(p) for p in files]


def read_lines(pattern_folder: Path, prefix: str):
    return [json.loads(line) for path in sorted(pattern_folder.glob(prefix + "-*.jsonl"))
            for line in path.read_text().splitlines()]


def without_scores(record):
    """The record with every caption score taken out (compared separately, with a tolerance)."""
    if isinstance(record, dict):
        return {k: without_scores(v) for k, v in record.items() if k != "score"}
    if isinstance(record, list):
        return [without_scores(v) for v in record]
    return record


def scores(record):
    if isinstance(record, dict):
        return [s for k, v in record.items() for s in ([v] if k == "score" else scores(v))]
    if isinstance(record, list):
        return [s for v in record for s in scores(v)]
    return []


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from unitest.conftest import SHARED_DATA

    root = tmp_path_factory.mktemp("beam")
    files = build_inputs(root / "in", SHARED_DATA)
    patterns = [str(root / "in" / "**"), str(root / "in" / "*.jpg"),  # overlapping patterns: each file once
                str(root / "in" / "nothing-*.png"), str(root / "in" / "missing.jpg"), "nosuchfs://bucket/*.jpg"]
    counts = caption_with_beam(patterns, str(root / "beam") + "/", str(DEMO_MODEL), generation=GENERATION,
                               sampling=SAMPLING, max_batch_size=8, pipeline_args=["--runner=DirectRunner"])
    predicted = ClipCap.from_pretrained(DEMO_MODEL).predict(files, sampling=SAMPLING, batch_size=8,
                                                            output_dir=root / "predict", **GENERATION)
    return {"root": root, "files": files, "patterns": patterns, "counts": counts, "predicted": predicted}


def test_every_input_is_one_caption_or_one_error(runs):
    counts, predicted = runs["counts"], runs["predicted"]
    ok = [r for r in predicted if r.ok]
    assert len(runs["files"]) == 43 and len(ok) >= 36  # the cut video may still give frames
    assert counts["inputs"] == 43 + 3  # files once each despite overlapping patterns, plus three failed patterns
    assert counts["captions"] == len(ok)
    assert counts["errors"] == len(predicted) - len(ok) + 3
    assert counts["inputs"] == counts["captions"] + counts["errors"]
    frames = sum(len(r.segments) if r.kind == "video" else 1 for r in ok)
    assert counts["frames"] == frames
    lines = read_lines(runs["root"] / "beam", "captions")
    errors = read_lines(runs["root"] / "beam", "errors")
    assert len(lines) == counts["captions"] and len(errors) == counts["errors"]
    patterns = {e["source"]: e["reason"] for e in errors if e["kind"] == "pattern"}
    assert sorted(patterns) == sorted(runs["patterns"][2:])
    assert patterns["nosuchfs://bucket/*.jpg"].startswith("cannot list the pattern")


def test_captions_match_predict(runs):
    lines = {line["source"]: line for line in read_lines(runs["root"] / "beam", "captions")}
    expected = {r.source: r.to_dict() for r in runs["predicted"] if r.ok}
    assert set(lines) == set(expected)
    for source, record in expected.items():
        assert without_scores(lines[source]) == without_scores(record), source
        assert scores(lines[source]) == pytest.approx(scores(record), abs=1e-4), source
    videos = [r for r in expected.values() if r["kind"] == "video"]
    assert len(videos) >= 4 and all(len(v["segments"]) >= 1 and v["caption"]["token_ids"] for v in videos)
    assert len({line["captions"][0]["text"] for line in lines.values() if line["kind"] == "image"}) > 1


def test_errors_match_predict(runs):
    errors = {e["source"]: e for e in read_lines(runs["root"] / "beam", "errors") if e["kind"] != "pattern"}
    expected = {r.source: r for r in runs["predicted"] if not r.ok}
    assert set(errors) == set(expected) and len(expected) >= 6
    for source, result in expected.items():
        assert errors[source]["message"] == result.error
        assert errors[source]["kind"] == result.kind and errors[source]["reason"] in result.error


def test_video_files_match_predict(runs):
    beam_files = runs["root"] / "beam" / "videos"
    predict_files = runs["root"] / "predict"
    videos = [r for r in runs["predicted"] if r.kind == "video" and r.ok]
    written = sorted(p.name for p in beam_files.iterdir())
    assert written == sorted(p.name for p in predict_files.iterdir() if p.suffix in (".srt", ".vtt", ".json")
                             and json.loads((predict_files / (p.stem + ".json")).read_text())["ok"])
    assert len(written) == 3 * len(videos) and {"tree.srt", "tree-1.srt", "vtest.srt", "vtest-1.srt"} <= set(written)
    for name in written:
        if name.endswith(".json"):
            ours, theirs = (json.loads((folder / name).read_text()) for folder in (beam_files, predict_files))
            assert without_scores(ours) == without_scores(theirs), name
        else:
            assert (beam_files / name).read_text() == (predict_files / name).read_text(), name
