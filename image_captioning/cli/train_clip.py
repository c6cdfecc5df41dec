"""`image-captioning train-clip`: contrastive pretraining of a CLIP image and text encoder."""

import json
from pathlib import Path

from image_captioning.training.train_config import TRAINING_PRESETS

# --tiny: the same code path in seconds (smoke test).
TINY_CLIP_OVERRIDES = {
    "data.num_images": 160,
    "model.text_encoder.hidden_dim": 32,
    "model.text_encoder.num_heads": 2,
    "model.text_encoder.num_layers": 1,
    "train.epochs": 2,
    "train.batch_size": 16,
    "train.warmup_steps": 2,
}


def add_arguments(parser):
    from image_captioning.cli.data_arguments import add_data_arguments

    parser.add_argument("--preset", default="shapes-clip", help=f"one of {', '.join(sorted(TRAINING_PRESETS))} or a JSON file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a preset value, e.g. --set train.epochs=3 --set data.path=captions.csv")
    add_data_arguments(parser, required=False)  # replaces the preset's "data" section
    parser.add_argument("--out", type=Path, required=True,
                        help="run folder: clip/ (encoders for `train --set train.init_image_encoder=OUT/clip`), retrieval.json")
    parser.add_argument("--tiny", action="store_true", help="smoke mode: tiny text encoder, few images, 2 epochs")


def run(args):
    from image_captioning.cli.data_arguments import training_config_from_arguments
    from image_captioning.training.clip_trainer import train_clip

    config = training_config_from_arguments(args, lambda preset: TINY_CLIP_OVERRIDES)
    recall = train_clip(config, args.out)
    print(json.dumps(recall, indent=2))
    print(f"CLIP encoders saved to {args.out / 'clip'}; train a captioner on them with "
          f"`image-captioning train --set train.init_image_encoder={args.out / 'clip'}`")
    return 0
