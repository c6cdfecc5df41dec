from image_captioning.training.trainer import train

__all__ = ["train"]
