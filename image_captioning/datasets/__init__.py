"""Caption dataset readers: every format becomes a list of `CaptionRecord`s.

`read_dataset(path, format, images_dir=..., split=...)` dispatches through the explicit
`READERS` table in `registry.py`; each format has its own small module.
"""

from image_captioning.datasets.coco import read_coco_captions
from image_captioning.datasets.flickr import read_flickr_captions
from image_captioning.datasets.folder_csv import read_folder_csv
from image_captioning.datasets.karpathy import load_karpathy_splits, read_karpathy_json
from image_captioning.datasets.msrvtt import read_msrvtt
from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, select_split
from image_captioning.datasets.registry import READERS, read_dataset

__all__ = [
    "CaptionRecord",
    "DatasetFormatError",
    "READERS",
    "load_karpathy_splits",
    "read_coco_captions",
    "read_dataset",
    "read_flickr_captions",
    "read_folder_csv",
    "read_karpathy_json",
    "read_msrvtt",
    "select_split",
]
