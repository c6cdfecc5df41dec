"""Where `train` and `evaluate` read a split from: an annotation file of a known format, or `tfds:NAME`.

A data source is a dict, the `data` section of a training preset: `{"format": "folder_csv", "path":
"captions.csv", "images_dir": ...}` for a file (any format of `READERS`), or `{"format": "tfds",
"name": "shapes_synthetic/images", "data_dir": ..., "media_dir": ..., "features": {...}, "captions":
"canonical"}` for TFDS (`captions`, "paraphrases" by default, as for the synthetic source).
"""

from image_captioning.datasets.registry import READERS, read_dataset
from image_captioning.synthetic.canonical import wants_canonical_captions

TFDS_PREFIX = "tfds:"
TFDS_OPTIONS = ("name", "data_dir", "media_dir", "features", "captions")


def data_source(data, format="folder_csv", images_dir=None, data_dir=None):
    """The data dict of a command-line `--data` value: `tfds:NAME[/CONFIG]` or an annotation file.

    Example:
    ```python
    data_source("tfds:shapes_synthetic/images", data_dir="/tmp/tfds")
    # {"format": "tfds", "name": "shapes_synthetic/images", "data_dir": "/tmp/tfds"}
    data_source("flickr8k/captions.txt", "flickr", images_dir="flickr8k/Images")
    ```
    """
    data = str(data)
    if data.startswith(TFDS_PREFIX):
        if images_dir is not None:
            raise ValueError(f"--images-dir is for annotation files; {data} brings its own media (use --data-dir for "
                             "the TFDS data folder)")
        source = {"format": "tfds", "name": data[len(TFDS_PREFIX):]}
        if data_dir is not None:
            source["data_dir"] = str(data_dir)
        return source
    if data_dir is not None:
        raise ValueError(f"--data-dir is the TFDS data folder, for --data tfds:NAME; {data} is a file (use --images-dir "
                         "for its media folder)")
    source = {"format": format, "path": data}
    if images_dir is not None:
        source["images_dir"] = str(images_dir)
    return source


def read_split(source, split):
    """The CaptionRecords of one split of a data source dict (see the module docstring)."""
    options = dict(source)
    data_format = options.pop("format", None)
    if data_format == "tfds":
        unknown = sorted(set(options) - set(TFDS_OPTIONS))
        if unknown or "name" not in options:
            raise ValueError(f"a tfds data source takes {list(TFDS_OPTIONS)} (name required), got {sorted(source)}")
        from image_captioning.datasets.tfds_source import read_tfds

        return read_tfds(split=split, **options)
    if data_format not in READERS:
        raise ValueError(f"unknown data format {data_format!r}; expected 'tfds' or one of {sorted(READERS)}")
    if "path" not in options:
        raise ValueError(f"a {data_format!r} data source needs a 'path' (the annotation file), got {sorted(source)}")
    if wants_canonical_captions(options.pop("captions", "paraphrases")):
        raise ValueError(f"data.captions='canonical' is made from each item's ground-truth scene, which the synthetic and "
                         f"tfds sources have and a {data_format!r} annotation file does not: use data.captions=paraphrases.")
    return read_dataset(options.pop("path"), data_format, split=split, **options)
