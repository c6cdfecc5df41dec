"""BLEU-1..4, METEOR, ROUGE-L, CIDEr (and SPICE when it can run) with the COCO caption code.

pycocoevalcap's `COCOEvalCap.evaluate()` always constructs SPICE, which downloads Stanford
CoreNLP and fails offline; here each scorer is called on its own, after the same PTBTokenizer
(Java) pass COCOEvalCap makes over predictions and references.
"""

import json
import logging
import re
from pathlib import Path

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.spice.spice import Spice
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from image_captioning.evaluation.java_runtime import require_java
from image_captioning.evaluation.spice_files import spice_unavailable_reason

logger = logging.getLogger(__name__)


def _bleu(gts, res):
    return Bleu(4).compute_score(gts, res, verbose=0)


def _meteor(gts, res):
    scorer = Meteor()
    try:
        return scorer.compute_score(gts, res)
    finally:
        del scorer  # stops the METEOR Java process now rather than at garbage collection


def _rouge(gts, res):
    return Rouge().compute_score(gts, res)


def _cider(gts, res):
    return Cider().compute_score(gts, res)


def _spice(gts, res):
    return Spice().compute_score(gts, res)


# metric family -> (result names, scorer(gts, res) -> (score or scores, per-image scores))
SCORERS = {
    "Bleu": (("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"), _bleu),
    "METEOR": (("METEOR",), _meteor),
    "ROUGE_L": (("ROUGE_L",), _rouge),
    "CIDEr": (("CIDEr",), _cider),
    "SPICE": (("SPICE",), _spice),
}
DEFAULT_METRICS = tuple(SCORERS)
METRIC_NAMES = tuple(name for names, _ in SCORERS.values() for name in names)

# PTBTokenizer reads one caption per line and Java also breaks lines on these characters.
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def evaluate_captions(predictions, references, metrics=DEFAULT_METRICS):
    """Corpus-level caption metrics, as reported on the COCO leaderboard.

    Args:
        predictions: {id: predicted caption}.
        references: {id: [reference captions]}, the same ids as `predictions`.
        metrics: families to compute, keys of SCORERS: "Bleu" (gives Bleu_1..Bleu_4), "METEOR",
            "ROUGE_L", "CIDEr", "SPICE". SPICE is skipped, with a logged "SPICE skipped:
            <reason>", when its CoreNLP jars or a suitable Java are missing.

    Returns:
        {"Bleu_1": ..., "Bleu_4": ..., "METEOR": ..., "ROUGE_L": ..., "CIDEr": ...} as floats.
        CIDEr is CIDEr-D scaled by 10, as in the COCO code (identical captions score near 10
        when references differ between images).

    Example:
    ```python
    evaluate_captions({1: "a red circle on the left"}, {1: ["a red circle on the left", "a red disc"]})
    ```
    """
    unknown = [name for name in metrics if name not in SCORERS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; expected some of {list(SCORERS)}")
    ids = _checked_ids(predictions, references)
    require_java()
    gts, res = _tokenize(predictions, references, ids)

    results = {}
    for family in metrics:
        if family == "SPICE":
            reason = spice_unavailable_reason()
            if reason is not None:
                logger.warning("SPICE skipped: %s", reason)
                continue
        names, scorer = SCORERS[family]
        score, _ = scorer(gts, res)
        scores = score if isinstance(score, list) else [score]
        results.update({name: float(value) for name, value in zip(names, scores)})
    return results


def write_metrics(metrics, out_dir, file_name="metrics.json"):
    """Writes `out_dir/metrics.json` and prints the metrics as a table; returns the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(format_table({"score": metrics}))
    return path


def format_table(columns):
    """A text table with one row per metric and one column per system.

    Example:
    ```python
    print(format_table({"model": model_metrics, "constant baseline": baseline_metrics}))
    ```
    """
    names = [name for name in METRIC_NAMES if any(name in values for values in columns.values())]
    names += sorted({name for values in columns.values() for name in values} - set(names))
    width = max([len("metric")] + [len(name) for name in names])
    widths = [max(10, len(str(title))) for title in columns]
    header = "metric".ljust(width) + "".join(f"  {title:>{w}}" for title, w in zip(columns, widths))
    lines = [header, "-" * len(header)]
    for name in names:
        cells = "".join(
            f"  {values[name]:>{w}.4f}" if name in values else f"  {'-':>{w}}"
            for values, w in zip(columns.values(), widths)
        )
        lines.append(name.ljust(width) + cells)
    return "\n".join(lines)


def _checked_ids(predictions, references):
    if not predictions:
        raise ValueError("predictions is empty; expected {id: caption} for at least one id")
    missing_references = [key for key in predictions if key not in references]
    missing_predictions = [key for key in references if key not in predictions]
    if missing_references or missing_predictions:
        raise ValueError(
            f"predictions and references must have the same ids; without reference: {missing_references[:5]}, "
            f"without prediction: {missing_predictions[:5]}"
        )
    for key in predictions:
        if not isinstance(predictions[key], str):
            raise ValueError(f"prediction for id {key!r} must be a string, got {type(predictions[key]).__name__}")
        captions = references[key]
        if isinstance(captions, str) or not captions or not all(isinstance(c, str) and c.strip() for c in captions):
            raise ValueError(
                f"references for id {key!r} must be a non-empty list of non-blank strings, got {captions!r:.80}"
            )
    return list(predictions)


def _tokenize(predictions, references, ids):
    """One PTBTokenizer run over references and predictions, as COCOEvalCap tokenizes both."""
    captions = {}
    for key in ids:
        # A prediction may be empty, but an empty last line would be lost by the tokenizer, so
        # every id ends with its (non-blank) references.
        captions[("prediction", key)] = [{"caption": _one_line(predictions[key])}]
        captions[("reference", key)] = [{"caption": _one_line(text)} for text in references[key]]
    tokenized = PTBTokenizer().tokenize(captions)
    expected = sum(len(value) for value in captions.values())
    if sum(len(value) for value in tokenized.values()) != expected:
        raise RuntimeError(f"PTBTokenizer returned a different number of lines than the {expected} captions it was given")
    gts = {key: tokenized[("reference", key)] for key in ids}
    res = {key: tokenized[("prediction", key)] for key in ids}
    return gts, res


def _one_line(text):
    return _LINE_BREAKS.sub(" ", text)
