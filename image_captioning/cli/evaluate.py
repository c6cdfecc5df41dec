"""`image-captioning evaluate`: caption a dataset split and score it against its references."""

from pathlib import Path


def add_arguments(parser):
    from image_captioning.cli.caption import add_dtype_argument, add_generation_arguments
    from image_captioning.cli.data_arguments import add_data_arguments

    parser.add_argument("--model", default="shapes-demo", help="a model folder or a known name")
    add_data_arguments(parser, required=True)
    parser.add_argument("--split", default="test", help="split to evaluate (default: test)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N media")
    parser.add_argument("--out", type=Path, required=True, help="folder for metrics.json, predictions.json and report.html")
    parser.add_argument("--batch-size", type=int, default=32)
    add_generation_arguments(parser)
    add_dtype_argument(parser)


def run(args):
    from image_captioning.cli.caption import generation_options, load_captioner
    from image_captioning.cli.data_arguments import data_source_from_arguments
    from image_captioning.datasets.sources import read_split
    from image_captioning.evaluation.evaluate_model import evaluate_model

    records = read_split(data_source_from_arguments(args), args.split)
    if not records:
        raise SystemExit(f"{args.data} has no records in split {args.split!r}.")
    records = records[: args.limit] if args.limit else records
    evaluate_model(load_captioner(args), records, args.out, args.batch_size, **generation_options(args))
    print(f"Wrote {args.out / 'metrics.json'} and {args.out / 'report.html'}")
    return 0
