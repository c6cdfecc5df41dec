"""`image-captioning train`: arguments and run."""

from pathlib import Path

from image_captioning.training.train_config import TRAINING_PRESETS, tiny_overrides


def add_arguments(parser):
    from image_captioning.cli.data_arguments import add_data_arguments

    parser.add_argument("--preset", default="shapes-demo", help=f"one of {', '.join(sorted(TRAINING_PRESETS))} or a JSON file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a preset value, e.g. --set train.epochs=3 --set data.path=captions.csv")
    add_data_arguments(parser, required=False)  # replaces the preset's "data" section
    parser.add_argument("--out", type=Path, required=True, help="run folder: checkpoint/, logs/, loss.png, model/")
    parser.add_argument("--tiny", action="store_true", help="smoke mode: tiny model, few images, 2 epochs")
    parser.add_argument("--no-resume", action="store_true", help="ignore a checkpoint already in --out")
    parser.add_argument("--stop-after-epochs", type=int, help="end this run after N more epochs (resume later)")


def run(args):
    from image_captioning.cli.data_arguments import training_config_from_arguments
    from image_captioning.training import train

    config = training_config_from_arguments(args, tiny_overrides)
    train(config, args.out, resume=not args.no_resume, stop_after_epochs=args.stop_after_epochs)
    print(f"Model saved to {args.out / 'model'}; loss curve at {args.out / 'loss.png'}")
    return 0
