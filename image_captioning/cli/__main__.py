"""`python -m image_captioning.cli ...`, the same as the `image-captioning` console script."""

from image_captioning.cli.main import main

raise SystemExit(main())
