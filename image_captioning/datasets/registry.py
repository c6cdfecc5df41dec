"""The explicit table of dataset formats and the `read_dataset` entry point."""

from image_captioning.datasets.coco import read_coco_captions
from image_captioning.datasets.flickr import read_flickr_captions
from image_captioning.datasets.folder_csv import read_folder_csv
from image_captioning.datasets.karpathy import read_karpathy_json
from image_captioning.datasets.msrvtt import read_msrvtt

# Every reader takes (path, images_dir=None, split=None, strict=True, **format_options).
READERS = {
    "flickr": read_flickr_captions,
    "flickr8k": read_flickr_captions,
    "flickr30k": read_flickr_captions,
    "coco": read_coco_captions,
    "karpathy": read_karpathy_json,
    "msrvtt": read_msrvtt,
    "folder_csv": read_folder_csv,
}


def read_dataset(path, format, images_dir=None, split=None, **format_options):
    """Reads an annotation file of a known format into a list of CaptionRecords.

    Args:
        path: the annotation file (CSV, TXT or JSON).
        format: a key of `READERS`: "flickr" (also "flickr8k", "flickr30k"), "coco",
            "karpathy", "msrvtt" or "folder_csv".
        images_dir: folder holding the images or videos; defaults to the annotation file's folder.
        split: for files that carry splits, keep only this one; for files that do not, the
            label given to every record.
        **format_options: passed to the reader, e.g. `karpathy_split=` for "coco",
            `restval_as_train=` for "coco"/"karpathy", `strict=False` to skip malformed rows
            with a warning instead of raising.

    Example:
    ```python
    records = read_dataset("flickr8k/captions.txt", "flickr", images_dir="flickr8k/Images")
    records[0].media_path, records[0].captions[:2]
    ```
    """
    if format not in READERS:
        raise ValueError(f"unknown dataset format {format!r}; expected one of {sorted(READERS)}")
    return READERS[format](path, images_dir=images_dir, split=split, **format_options)
