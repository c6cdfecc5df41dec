"""The `--data` arguments `train`, `train-clip` and `evaluate` share: an annotation file, or `tfds:NAME[/CONFIG]`."""

# What a `--data tfds:` source keeps of the preset's "data" section: how the recipe picks captions.
TFDS_KEEPS_FROM_PRESET = ("captions",)


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


def training_config_from_arguments(args, tiny_overrides):
    """The preset with `--data` (when given) as its "data" section, then `--tiny` and `--set` overrides.

    `tiny_overrides(preset)` gives the `--tiny` overrides of a preset.

    `--data` replaces the preset's synthetic data, so the tiny mode's `data.*` overrides are dropped with it;
    a `tfds:` source keeps the preset's caption choice (`data.captions`, and `--tiny`'s), which it honours
    as the synthetic source does.
    """
    from image_captioning.training.train_config import apply_overrides, load_training_preset, parse_override

    config = load_training_preset(args.preset)
    overrides = dict(tiny_overrides(config)) if args.tiny else {}
    if args.data is not None:
        source = data_source_from_arguments(args)
        kept = TFDS_KEEPS_FROM_PRESET if source["format"] == "tfds" else ()
        config["data"] = {**source, **{key: config["data"][key] for key in kept if key in config["data"]}}
        overrides = {key: value for key, value in overrides.items()
                     if not key.startswith("data.") or key.removeprefix("data.") in kept}
    overrides.update(parse_override(text) for text in args.overrides)
    return apply_overrides(config, overrides)
