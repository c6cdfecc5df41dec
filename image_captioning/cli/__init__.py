"""The `image-captioning` command line: `main` parses, one module per subcommand does the work."""

from image_captioning.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
