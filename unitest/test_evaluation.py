"""COCO caption metrics, metrics.json, the HTML report and the constant baseline.

PTBTokenizer and METEOR start Java processes; METEOR (the slow one) runs once, in `perfect`.
"""

import json
import logging
import math

import numpy as np
import pytest
from PIL import Image

from image_captioning.evaluation import (
    constant_baseline,
    evaluate_captions,
    format_table,
    spice_unavailable_reason,
    write_html_report,
    write_metrics,
)
from image_captioning.evaluation import spice_files
from image_captioning.synthetic import write_video

REFERENCES = {
    "circle": ["A large red circle on the left.", "a red circle on the left of the image"],
    "square": ["A small blue square at the top.", "there is a small blue square at the top"],
    "star": ["A green star in the centre of the picture.", "a large green star in the centre"],
    "cross": ["An orange cross moves from left to right.", "an orange cross moving to the right"],
}
PERFECT = {key: captions[0] for key, captions in REFERENCES.items()}
WRONG = dict(zip(PERFECT, list(PERFECT.values())[1:] + list(PERFECT.values())[:1]))


@pytest.fixture(scope="module")
def perfect():
    """Metrics of predictions equal to a reference, with every metric; logs of that run."""
    handler = _ListHandler()
    logging.getLogger("image_captioning.evaluation.metrics").addHandler(handler)
    try:
        return evaluate_captions(PERFECT, REFERENCES), handler.messages
    finally:
        logging.getLogger("image_captioning.evaluation.metrics").removeHandler(handler)


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_identical_captions_score_top_marks(perfect):
    metrics, _ = perfect
    assert set(metrics) >= {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"}
    assert metrics["Bleu_4"] == pytest.approx(1.0, abs=1e-6)
    assert metrics["ROUGE_L"] > 0.99  # ROUGE-L takes the best reference, here an exact match
    assert metrics["METEOR"] > 0.95  # METEOR runs through Java
    assert metrics["CIDEr"] > 5.0  # CIDEr-D x 10; the second, different reference pulls it below 10


def test_spice_is_skipped_with_a_reason_when_unavailable(perfect):
    metrics, messages = perfect
    reason = spice_unavailable_reason()
    if reason is None:
        assert "SPICE" in metrics
    else:
        assert "SPICE" not in metrics
        assert f"SPICE skipped: {reason}" in messages


def test_wrong_captions_and_constant_baseline_score_lower(perfect):
    metrics, _ = perfect
    families = ("Bleu", "ROUGE_L", "CIDEr")
    wrong = evaluate_captions(WRONG, REFERENCES, metrics=families)
    assert set(wrong) == {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"}
    for name in wrong:
        assert wrong[name] < metrics[name] - 0.1, name
    baseline = evaluate_captions(constant_baseline(REFERENCES), REFERENCES, metrics=("CIDEr",))
    assert baseline["CIDEr"] < metrics["CIDEr"] / 2


def test_bleu_matches_a_hand_computation():
    # After PTB tokenisation (lower case, punctuation dropped):
    #   prediction  a red circle on the left          (6 tokens)
    #   reference   a blue circle on the right side   (7 tokens)
    # unigram matches a, circle, on, the -> 4/6; bigram matches "circle on", "on the" -> 2/5;
    # the prediction is shorter, so the brevity penalty is exp(1 - 7/6).
    metrics = evaluate_captions({0: "A red circle on the left."}, {0: ["A blue circle on the right side."]},
                                metrics=("Bleu",))
    brevity = math.exp(1 - 7 / 6)
    assert metrics["Bleu_1"] == pytest.approx(brevity * 4 / 6, rel=1e-6)
    assert metrics["Bleu_2"] == pytest.approx(brevity * math.sqrt(4 / 6 * 2 / 5), rel=1e-6)


def test_mismatched_ids_and_bad_references_are_rejected():
    with pytest.raises(ValueError, match="same ids"):
        evaluate_captions({1: "a dog"}, {2: ["a dog"]})
    with pytest.raises(ValueError, match="non-empty list"):
        evaluate_captions({1: "a dog"}, {1: "a dog"})
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate_captions({1: "a dog"}, {1: ["a dog"]}, metrics=("BLEU",))


def test_spice_reason_names_the_jars_and_where_they_go(tmp_path, monkeypatch):
    monkeypatch.setattr(spice_files, "spice_lib_dir", lambda: tmp_path)
    reason = spice_unavailable_reason()
    assert "stanford-corenlp-3.6.0-models.jar" in reason and str(tmp_path) in reason
    assert spice_files.CORENLP_ZIP_URL in reason
    for name in spice_files.CORENLP_JARS:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(spice_files, "java_major_version", lambda: 17)
    assert "Java 8 to 11" in spice_unavailable_reason()
    monkeypatch.setattr(spice_files, "java_major_version", lambda: 11)
    assert spice_unavailable_reason() is None


def test_constant_baseline_picks_the_most_common_caption():
    references = {1: ["A dog runs.", "a cat"], 2: ["a  dog runs.", "a bird"], 3: ["a cat"]}
    assert constant_baseline(references) == {1: "A dog runs.", 2: "A dog runs.", 3: "A dog runs."}


def test_write_metrics_saves_json_and_prints_a_table(tmp_path, capsys):
    metrics = {"Bleu_4": 0.25, "CIDEr": 1.5}
    path = write_metrics(metrics, tmp_path / "eval")
    assert json.loads(path.read_text()) == metrics and path.name == "metrics.json"
    printed = capsys.readouterr().out
    assert "Bleu_4" in printed and "1.5000" in printed
    table = format_table({"model": metrics, "constant baseline": {"CIDEr": 0.5}})
    assert table.splitlines()[2].split() == ["Bleu_4", "0.2500", "-"]


def test_html_report_escapes_captions_and_shows_media(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(media / "a b.png")
    write_video(np.zeros((5, 32, 32, 3), np.uint8), media / "clip.mp4", fps=5)
    predictions = {"a": "a <b>bold</b> & \"quoted\" dog", "v": "a video"}
    references = {"a": ["<script>alert(1)</script>"], "v": ["a clip"]}
    paths = {"a": media / "a b.png", "v": media / "clip.mp4"}

    linked = write_html_report(tmp_path / "report" / "index.html", predictions, references, paths,
                               metrics={"CIDEr": 1.25}).read_text()
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; dog" in linked
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in linked and "<script>" not in linked
    assert 'src="../media/a%20b.png"' in linked and '<video src="../media/clip.mp4"' in linked
    assert "1.2500" in linked

    embedded = write_html_report(tmp_path / "embedded.html", predictions, references, paths,
                                 embed_thumbnails=True).read_text()
    assert embedded.count("data:image/jpeg;base64,") == 2
