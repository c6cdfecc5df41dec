"""Metadata, dependencies and package data are in setup.cfg; only the package list is here.

setup.cfg's `packages = find:` cannot add packages that live outside the source tree, and the wheel needs two:
the top-level `hparams/` and `pretrained_models/` (kept where they are for the checkout) are mapped into the
wheel as `image_captioning.hub.presets` and `image_captioning.hub.shipped_models` (see `image_captioning/hub/paths.py`).
"""

from setuptools import find_packages, setup

DATA_PACKAGES = {
    "image_captioning.hub.presets": "hparams",
    "image_captioning.hub.shipped_models": "pretrained_models",
}

setup(
    packages=find_packages(
        include=["image_captioning", "image_captioning.*", "custom_architectures", "custom_architectures.*"],
        exclude=["image_captioning.assets*"],
    )
    + list(DATA_PACKAGES),
    package_dir=DATA_PACKAGES,
)
