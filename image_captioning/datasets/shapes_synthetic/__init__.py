"""The synthetic shapes dataset as a TFDS builder (`shapes_synthetic`); importing this registers it.

Kept out of `image_captioning.datasets`' own imports: it imports `tensorflow_datasets`.
"""

from image_captioning.datasets.shapes_synthetic.shapes_synthetic_dataset_builder import Builder, ShapesSyntheticConfig

__all__ = ["Builder", "ShapesSyntheticConfig"]
