"""Caption a dataset's media with a model and score the captions against the references."""

import json
from pathlib import Path

from image_captioning.evaluation.baselines import constant_baseline
from image_captioning.evaluation.grounded import find_scene_entries, grounded_metrics
from image_captioning.evaluation.metrics import evaluate_captions, format_table
from image_captioning.evaluation.report import write_html_report


def evaluate_model(captioner, records, out_dir, batch_size=32, **generation):
    """Captions every record's medium; returns {"model": metrics, "constant baseline": metrics}.

    On a synthetic dataset (a `scenes.json` beside the media folders) each column also holds the
    grounded accuracies of `evaluation.grounded` (colour, shape, size, position, scene exact, ...).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = captioner.predict([record.media_path for record in records], batch_size=batch_size, **generation)
    failed = [result for result in results if not result.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} evaluation media could not be captioned, e.g. {failed[0].error}")
    ids = [str(index) for index in range(len(records))]
    predictions = {i: result.caption.text for i, result in zip(ids, results)}
    references = {i: record.captions for i, record in zip(ids, records)}
    baseline = constant_baseline(references)
    table = {"model": evaluate_captions(predictions, references), "constant baseline": evaluate_captions(baseline, references)}
    scenes = {str(index): entry for index, entry in find_scene_entries([r.media_path for r in records]).items()}
    table["model"].update(grounded_metrics(predictions, scenes))
    table["constant baseline"].update(grounded_metrics(baseline, scenes))
    (out_dir / "metrics.json").write_text(json.dumps(table, indent=2))
    (out_dir / "predictions.json").write_text(json.dumps({records[int(i)].media_path: p for i, p in predictions.items()}, indent=2))
    write_html_report(out_dir / "report.html", predictions, references, {i: r.media_path for i, r in zip(ids, records)},
                      title="Evaluation", metrics=table["model"], embed_thumbnails=True)
    print(format_table(table))
    return table
