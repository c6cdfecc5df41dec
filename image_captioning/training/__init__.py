"""The `train` recipe. `train` (and Keras with it) is imported on first use, so that reading a
preset (`train_config`) for the CLI's arguments does not load TensorFlow."""


def __getattr__(name):
    if name == "train":
        from image_captioning.training.trainer import train

        return train
    raise AttributeError(f"module 'image_captioning.training' has no attribute {name!r}")


__all__ = ["train"]
