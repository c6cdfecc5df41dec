"""`image-captioning evaluate`: caption a dataset split and score it against its references."""

import json
from pathlib import Path


def add_evaluate_arguments(parser):
    from image_captioning.caption_command import add_generation_arguments
    from image_captioning.datasets import READERS

    parser.add_argument("--model", default="shapes-demo", help="a model folder or a known name")
    parser.add_argument("--data", type=Path, required=True, help="annotation file (captions.csv, dataset_coco.json, ...)")
    parser.add_argument("--format", default="folder_csv", choices=sorted(READERS), help="annotation format")
    parser.add_argument("--images-dir", type=Path, help="media folder, when the annotations hold bare file names")
    parser.add_argument("--split", default="test", help="split to evaluate (default: test)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N media")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics.json, predictions.json and report.html")
    parser.add_argument("--batch-size", type=int, default=32)
    add_generation_arguments(parser)


def evaluate_model(captioner, records, out_dir, batch_size=32, **generation):
    """Captions every record's medium; returns {"model": metrics, "constant baseline": metrics}.

    On a synthetic dataset (a `scenes.json` beside the media folders) each column also holds the
    grounded accuracies of `evaluation.grounded` (colour, shape, size, position, scene exact, ...).
    """
    from image_captioning.evaluation import constant_baseline, evaluate_captions, format_table, write_html_report
    from image_captioning.evaluation.grounded import find_scene_entries, grounded_metrics

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


def run_evaluate(args):
    from image_captioning.caption_command import generation_options
    from image_captioning.clipcap import ClipCap
    from image_captioning.datasets import read_dataset

    records = read_dataset(args.data, args.format, images_dir=args.images_dir, split=args.split)
    if not records:
        raise SystemExit(f"{args.data} has no records in split {args.split!r}.")
    records = records[: args.limit] if args.limit else records
    evaluate_model(ClipCap.from_pretrained(args.model), records, args.out, args.batch_size, **generation_options(args))
    print(f"Wrote {args.out / 'metrics.json'} and {args.out / 'report.html'}")
    return 0
