"""The `--data` arguments `train` and `evaluate` share: an annotation file, or `tfds:NAME[/CONFIG]`."""


def add_data_arguments(parser, required):
    from image_captioning.datasets import READERS

    parser.add_argument("--data", required=required, metavar="FILE|tfds:NAME[/CONFIG]",
                        help="annotation file (captions.csv, dataset_coco.json, ...) or a TFDS dataset, "
                             "e.g. tfds:shapes_synthetic/images or tfds:coco_captions")
    parser.add_argument("--format", default="folder_csv", choices=sorted(READERS), help="annotation file format")
    parser.add_argument("--images-dir", help="media folder, when the annotations hold bare file names")
    parser.add_argument("--data-dir", help="TFDS data folder for tfds: data (default: TFDS' ~/tensorflow_datasets)")


def data_source_from_arguments(args):
    """The data source dict (a preset's "data" section) the arguments name."""
    from image_captioning.datasets.sources import data_source

    try:
        return data_source(args.data, args.format, args.images_dir, args.data_dir)
    except ValueError as error:
        raise SystemExit(str(error)) from None
