"""Load any image (file, array, PIL image) into upright uint8 RGB (H, W, 3).

Loading choices:
  * transparency (RGBA, LA, palette with a transparent colour) is composited on a
    white background, so transparent regions read as white rather than black;
  * the EXIF orientation tag is applied, so the array is upright as viewers show it;
  * 16-bit and 32-bit data are scaled to 8 bits (not clipped);
  * multi-frame files (GIF, TIFF) give their first frame;
  * images whose short side exceeds `max_short_side` are reduced while decoding
    (JPEG draft mode) and then with area interpolation, so a huge photo never
    reaches the preprocessing step at full size;
  * images over `max_pixels` are refused before decoding (decompression-bomb guard).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from image_captioning.media.files import check_media_file
from image_captioning.media.sources import WorkItem
from image_captioning.results import ItemError

DEFAULT_MAX_SHORT_SIDE = 1024
DEFAULT_MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485


def cap_short_side(image: np.ndarray, max_short_side: int | None) -> np.ndarray:
    """Shrink `image` (H, W, C) with area interpolation so that min(H, W) <= max_short_side."""
    if not max_short_side:
        return image
    height, width = image.shape[:2]
    short = min(height, width)
    if short <= max_short_side:
        return image
    scale = max_short_side / short
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32)
    return np.round(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def _scale_to_uint8(array: np.ndarray) -> np.ndarray:
    """Map any numeric array to uint8 by its dtype's natural range (not by clipping)."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "u" and array.dtype.itemsize == 2:
        return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        array = np.nan_to_num(array.astype(np.float32))
        if array.size and array.max() <= 1.0:
            array = array * 255.0
        return np.clip(np.round(array), 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        # 32-bit integer images (PIL mode "I") usually hold 16-bit samples.
        if array.size and array.max() > 255:
            return ((np.clip(array, 0, 65535).astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported dtype {array.dtype}")


def array_to_rgb(array: np.ndarray, source: str = "<array>") -> np.ndarray:
    """Convert an RGB/RGBA/grayscale array of any numeric dtype to uint8 RGB (H, W, 3).

    Floats in [0, 1] are scaled by 255, other floats are taken as 0..255; uint16 is
    scaled from 0..65535. Channels are taken to be in RGB order (not OpenCV's BGR).
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)) or 0 in array.shape:
        raise ItemError(
            source,
            f"array of shape {array.shape} is not an image",
            "pass (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA",
        )
    try:
        array = _scale_to_uint8(array)
    except ValueError as exc:
        raise ItemError(source, str(exc), "pass an integer, float or bool array") from None
    if array.ndim == 2:
        return np.ascontiguousarray(np.repeat(array[..., None], 3, axis=-1))
    if array.shape[-1] == 4:
        return _composite_on_white(array)
    return np.ascontiguousarray(array)


def pil_to_rgb(image: Image.Image, source: str = "<PIL image>") -> np.ndarray:
    """Convert a PIL image of any mode to uint8 RGB (H, W, 3), compositing transparency on white."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return _composite_on_white(np.asarray(image.convert("RGBA")))
    if mode.startswith("I") or mode == "F":
        return array_to_rgb(np.asarray(image), source)
    if mode != "RGB":
        try:
            image = image.convert("RGB")
        except (ValueError, OSError) as exc:
            raise ItemError(source, f"cannot convert colour mode {mode} to RGB ({exc})", "re-save the image as RGB") from None
    return np.asarray(image)


def _describe_head(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    return repr(head)


def load_image(
    source,
    *,
    max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> np.ndarray:
    """Load an image file, array or PIL image as upright uint8 RGB (H, W, 3).

    Args:
        source: a path, a `WorkItem` of kind "image", a NumPy array or a PIL image.
        max_short_side: shrink so the shorter side is at most this many pixels (None: keep size).
        max_pixels: refuse files with more pixels than this before decoding them (None: PIL's own limit).
        name: how to name the input in error messages (defaults to the path).

    Raises:
        ItemError: the file is missing, empty, not an image, truncated, too large or in an
            unsupported format; the message names the file, the reason and the fix.

    Example:
        >>> rgb = load_image("photos/cat.jpg", max_short_side=512)
        >>> rgb.dtype, rgb.shape[-1]
        (dtype('uint8'), 3)
    """
    if isinstance(source, WorkItem):
        name = name or source.source
        source = source.path if source.path is not None else source.image
    if isinstance(source, np.ndarray):
        return cap_short_side(array_to_rgb(source, name or "<array>"), max_short_side)
    if isinstance(source, Image.Image):
        label = name or getattr(source, "filename", "") or "<PIL image>"
        try:
            return cap_short_side(pil_to_rgb(ImageOps.exif_transpose(source), label), max_short_side)
        except ItemError:
            raise
        except Exception as exc:
            raise ItemError(label, f"cannot read the PIL image ({exc})", "check the image object") from None
    return _load_image_file(Path(source), name or str(source), max_short_side, max_pixels)


def _load_image_file(path: Path, name: str, max_short_side: int | None, max_pixels: int | None) -> np.ndarray:
    check_media_file(path, name, "image")

    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ItemError(
            name,
            f"image is too large to decode safely ({exc})",
            "if you trust the file, raise PIL.Image.MAX_IMAGE_PIXELS and max_pixels, or downscale it first",
        ) from None
    except UnidentifiedImageError:
        raise ItemError(
            name,
            f"not a recognised image format (file starts with {_describe_head(path)})",
            "check that the file really is an image and re-export it",
        ) from None
    except PermissionError:
        raise ItemError(name, "permission denied", "make the file readable") from None
    except OSError as exc:
        raise ItemError(name, f"cannot open the image ({exc})", "re-download or re-export the image") from None

    with image:
        width, height = image.size
        if max_pixels and width * height > max_pixels:
            raise ItemError(
                name,
                f"image is {width}x{height} = {width * height / 1e6:.0f} megapixels, above the limit of "
                f"{max_pixels / 1e6:.0f} megapixels (decompression-bomb guard)",
                "if you trust the file, pass a larger max_pixels, or downscale it first",
            )
        if max_short_side and min(width, height) > max_short_side and image.format == "JPEG":
            # Draft mode decodes the JPEG at 1/2, 1/4 or 1/8 scale without ever holding full size.
            scale = max_short_side / min(width, height)
            image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
        try:
            image.load()
        except Image.DecompressionBombError as exc:
            raise ItemError(name, f"image is too large to decode safely ({exc})", "downscale it first") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ItemError(
                name,
                f"cannot decode the {image.format or 'image'} data ({exc}); the file is truncated or corrupt",
                "re-download or re-export the image",
            ) from None
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:
            upright = image  # a malformed EXIF block should not cost the whole image
        rgb = pil_to_rgb(upright, name)
    return cap_short_side(rgb, max_short_side)

