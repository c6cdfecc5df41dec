"""Caption evaluation: COCO metrics (pycocoevalcap), an HTML report, and a constant baseline.

`evaluate_captions(predictions, references)` returns Bleu_1..4, METEOR, ROUGE_L, CIDEr (and
SPICE when its CoreNLP jars and a Java 8/11 are present); `write_metrics` saves metrics.json;
`write_html_report` shows media with predicted and reference captions; `grounded_metrics` reads
captions of synthetic scenes against the scenes themselves.
"""

from image_captioning.evaluation.baselines import constant_baseline
from image_captioning.evaluation.grounded import grounded_metrics
from image_captioning.evaluation.metrics import (
    DEFAULT_METRICS,
    METRIC_NAMES,
    SCORERS,
    evaluate_captions,
    format_table,
    write_metrics,
)
from image_captioning.evaluation.report import write_html_report
from image_captioning.evaluation.spice_files import spice_unavailable_reason

__all__ = [
    "DEFAULT_METRICS",
    "METRIC_NAMES",
    "SCORERS",
    "constant_baseline",
    "evaluate_captions",
    "format_table",
    "grounded_metrics",
    "spice_unavailable_reason",
    "write_html_report",
    "write_metrics",
]
