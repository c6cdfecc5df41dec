"""SRT / WebVTT / JSON / JSONL output, caption overlays and the HTML gallery."""

import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from image_captioning.pipeline import run_pipeline
from image_captioning.results import Caption, ImageResult, VideoResult, VideoSegment
from image_captioning.outputs.writer import ResultWriter, gallery_html
from image_captioning.outputs.overlay import draw_caption
from image_captioning.outputs.subtitles import format_timestamp, srt_text, vtt_text

_TIME = r"(\d{2,}):(\d{2}):(\d{2})[,.](\d{3})"


def _seconds(h, m, s, ms):
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_subtitles(text, vtt=False):
    """A small SRT/WebVTT reader: [(start_s, end_s, text)] for each cue, checking numbering and layout."""
    lines = text.split("\n")
    if vtt:
        assert lines[0] == "WEBVTT" and lines[1] == ""
        lines = lines[2:]
    blocks = "\n".join(lines).strip("\n").split("\n\n")
    cues = []
    for number, block in enumerate(blocks, 1):
        index, timing, *body = block.split("\n")
        assert index == str(number)
        separator = "." if vtt else ","
        match = re.fullmatch(f"{_TIME} --> {_TIME}", timing)
        assert match and separator in timing, timing
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        assert body and "" not in body and all("-->" not in line for line in body)
        cues.append((start, end, "\n".join(body)))
    return cues


def _video_result(source="clip.mp4"):
    segments = [
        VideoSegment(0.0, 2.5, Caption("a man walks", -0.1, [1]), 10, 1.2),
        VideoSegment(2.5, 61.2344, Caption("cars <drive> & park --> away", -0.2, [2]), 300, 30.0),
        VideoSegment(61.2344, 3725.0006, Caption("night\n\nfalls", -0.3, [3]), 9000, 1800.0),
    ]
    return VideoResult(source, segments, Caption("a street", -0.5, [4]), 25.0, 3725.0006)


def test_timestamps():
    assert format_timestamp(0) == "00:00:00,000"
    assert format_timestamp(3725.0006) == "01:02:05,001"
    assert format_timestamp(59.9996, ".") == "00:01:00.000"
    assert format_timestamp(-1) == "00:00:00,000"


def test_srt_and_vtt_parse_back_with_the_right_times():
    result = _video_result()
    expected_times = [(0.0, 2.5), (2.5, 61.234), (61.234, 3725.001)]
    srt = parse_subtitles(srt_text(result))
    vtt = parse_subtitles(vtt_text(result), vtt=True)
    assert [(s, e) for s, e, _ in srt] == expected_times
    assert [(s, e) for s, e, _ in vtt] == expected_times
    assert [t for _, _, t in srt] == ["a man walks", "cars <drive> & park -> away", "night falls"]
    assert [t for _, _, t in vtt] == ["a man walks", "cars &lt;drive&gt; &amp; park -&gt; away", "night falls"]


def test_writer_outputs_for_a_pipeline_run(tmp_path, shared_data):
    videos, images = shared_data / "videos", shared_data / "images"
    (tmp_path / "broken.jpg").write_text("text")

    def encode(batch):
        return batch.mean(axis=(1, 2))

    def caption(embeddings):
        return [[Caption(f"colour {row[0]:.3f}", float(row.sum()), [7])] for row in embeddings]

    def preprocess(image):
        return tf.image.resize(tf.cast(image, tf.float32) / 255.0, (16, 16))

    out = tmp_path / "out"
    with ResultWriter(out, overlay=True, gallery="index.html") as writer:
        results = list(
            run_pipeline(
                [videos / "tree.avi", images / "apple.jpg", tmp_path / "broken.jpg", images / "horse.png"],
                encode,
                caption,
                preprocess=preprocess,
                resolution=16,
                batch_size=4,
                on_result=writer,
                progress=False,
            )
        )
    video = results[0]
    assert video.ok and len(video.segments) == 8

    cues = parse_subtitles((out / "tree.srt").read_text())
    assert [(s, e) for s, e, _ in cues] == [(round(s.start, 3), round(s.end, 3)) for s in video.segments]
    assert [t for _, _, t in cues] == [s.caption.text for s in video.segments]
    vtt_cues = parse_subtitles((out / "tree.vtt").read_text(), vtt=True)
    assert [(s, e) for s, e, _ in vtt_cues] == [(s, e) for s, e, _ in cues]
    assert json.loads((out / "tree.json").read_text()) == video.to_dict()

    lines = [json.loads(line) for line in (out / "captions.jsonl").read_text().splitlines()]
    assert [line["source"] for line in lines] == [str(images / "apple.jpg"), str(tmp_path / "broken.jpg"), str(images / "horse.png")]
    assert lines[0]["ok"] and lines[0]["captions"][0]["text"] == results[1].caption.text
    assert not lines[1]["ok"] and "not a recognised image format" in lines[1]["error"]

    overlay = np.asarray(Image.open(out / "apple.captioned.jpg"))
    assert overlay.shape == (512, 512, 3)
    assert not (out / "broken.captioned.jpg").exists()

    page = (out / "index.html").read_text()
    assert page.count("<tr>") == 5  # header + 4 results
    thumbs = sorted(p.name for p in (out / "index_thumbs").iterdir())
    assert thumbs == ["00000.jpg", "00001.jpg", "00003.jpg"]  # the broken file has no picture
    for name in thumbs:
        assert f'src="index_thumbs/{name}"' in page
        assert max(Image.open(out / "index_thumbs" / name).size) <= 240


def test_outputs_next_to_the_inputs_and_name_clashes(tmp_path, shared_data):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(shared_data / "videos" / "tree.avi", tmp_path / folder / "tree.avi")
    first, second = _video_result(str(tmp_path / "a" / "tree.avi")), _video_result(str(tmp_path / "b" / "tree.avi"))

    writer = ResultWriter(video_formats=("srt",))
    writer(first)
    writer(second)
    writer.close()
    assert (tmp_path / "a" / "tree.srt").exists() and (tmp_path / "b" / "tree.srt").exists()

    out = tmp_path / "out"
    writer = ResultWriter(out, video_formats=("vtt", "json"))
    writer(first)
    writer(second)
    writer(VideoResult(str(tmp_path / "gone.mp4"), error="gone.mp4: file not found; check the path"))
    writer.close()
    assert sorted(p.name for p in out.iterdir()) == ["gone.json", "tree-1.json", "tree-1.vtt", "tree.json", "tree.vtt"]
    assert json.loads((out / "gone.json").read_text())["error"].startswith("gone.mp4: file not found")


def test_in_memory_images_go_to_the_output_folder(tmp_path):
    writer = ResultWriter(tmp_path, overlay=True)
    writer(ImageResult("<array #0>", [Caption("an array", -1.0, [1, 2])]))
    writer.close()
    (line,) = (tmp_path / "captions.jsonl").read_text().splitlines()
    assert json.loads(line)["captions"] == [{"text": "an array", "score": -1.0, "token_ids": [1, 2]}]


def test_draw_caption_only_touches_the_bottom_band(shared_data):
    image = np.asarray(Image.open(shared_data / "images" / "chelsea.png").convert("RGB"))
    captioned = draw_caption(image, "a cat with a long caption that needs to wrap onto more than one line of text")
    assert captioned.shape == image.shape and captioned.dtype == np.uint8
    assert np.array_equal(captioned[:150], image[:150])
    assert not np.array_equal(captioned[-20:], image[-20:])
    assert image is not captioned


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_gallery_escapes_everything():
    evil = '<script>alert("x")</script> & "quotes"'
    rows = [
        (ImageResult('photo "1" <b>.jpg', [Caption(evil, -1.0, [])]), 'thumbs/a"b.jpg'),
        (VideoResult("clip.mp4", [VideoSegment(0, 1, Caption(evil, 0, []), 0)], Caption(evil, 0, []), 10, 1), None),
        (ImageResult("bad.jpg", error=f"bad.jpg: {evil}"), None),
    ]
    page = gallery_html(rows, title="<Title>")
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags
    text = "".join(parser.text)
    assert text.count(evil) == 4  # image caption, segment, whole video caption, error
    assert 'photo "1" <b>.jpg' in text and "<Title>" in text
    assert 'src="thumbs/a&quot;b.jpg"' in page


def test_unknown_video_format_is_refused():
    with pytest.raises(ValueError, match="unknown video formats"):
        ResultWriter(video_formats=("srt", "mp3"))
