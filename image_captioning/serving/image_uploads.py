"""Encoded image bytes from a client -> upright uint8 RGB, with the checks `media.images` makes for files.

The same decoding as `ClipCap.predict` (PIL, EXIF orientation, transparency on white, JPEG
draft mode and area reduction of large images, decompression-bomb guard), from memory instead
of a path, with every failure a `RequestError` that names the upload.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from image_captioning.media.images import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SHORT_SIDE, cap_short_side, pil_to_rgb
from image_captioning.results import ItemError
from image_captioning.serving.errors import RequestError

RESEND = "send the complete JPEG, PNG, GIF, BMP, TIFF or WebP file"


def decode_image_bytes(data: bytes, name: str, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                       max_short_side: int | None = DEFAULT_MAX_SHORT_SIDE):
    """`data` (an encoded image) -> uint8 (H, W, 3); `name` is how errors refer to it."""
    if not data:
        raise RequestError(400, f"{name} is empty (0 bytes)", RESEND)
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise RequestError(400, f"{name} is not an image (it starts with {data[:16]!r})", RESEND) from None
    except Image.DecompressionBombError as error:
        raise RequestError(413, f"{name} is too large to decode safely ({error})", "downscale it first") from None
    except OSError as error:
        raise RequestError(400, f"{name} cannot be opened as an image ({error})", RESEND) from None
    with image:
        width, height = image.size
        if max_pixels and width * height > max_pixels:
            raise RequestError(413, f"{name} is {width}x{height} pixels, above this server's limit of "
                                    f"{max_pixels / 1e6:.0f} megapixels", "downscale it first")
        if max_short_side and min(width, height) > max_short_side and image.format == "JPEG":
            scale = max_short_side / min(width, height)
            image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
            raise RequestError(400, f"{name}: cannot decode the {image.format or 'image'} data ({error}); "
                                    "the file is truncated or corrupt", RESEND) from None
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:
            upright = image  # a malformed EXIF block should not cost the whole image
        try:
            rgb = pil_to_rgb(upright, name)
        except ItemError as error:
            raise RequestError(400, error.message) from None
    return cap_short_side(rgb, max_short_side)
