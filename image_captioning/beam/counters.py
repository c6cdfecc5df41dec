"""The pipeline's Beam metrics: every input ends as one caption record or one error record."""

from __future__ import annotations

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

NAMESPACE = "image_captioning"
NAMES = ("inputs", "captions", "errors", "frames")


def counter(name: str):
    return Metrics.counter(NAMESPACE, name)


def query_counts(result) -> dict[str, int]:
    """{name: value} of this namespace's counters in a finished `PipelineResult` (committed where the runner has them).

    Example:
        >>> counts = query_counts(pipeline.run())
        >>> counts["inputs"] == counts["captions"] + counts["errors"]
        True
    """
    counts = dict.fromkeys(NAMES, 0)
    for metric in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = metric.committed if metric.committed is not None else metric.attempted
        counts[metric.key.metric.name] = counts.get(metric.key.metric.name, 0) + int(value or 0)
    return counts
