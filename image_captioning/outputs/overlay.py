"""A caption drawn on its image."""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def draw_caption(image: np.ndarray, text: str, font_size: int | None = None) -> np.ndarray:
    """A copy of uint8 RGB `image` with `text` wrapped on a dark band along its bottom edge.

    Example:
        >>> captioned = draw_caption(np.full((240, 320, 3), 200, np.uint8), "a grey square")
        >>> captioned.shape
        (240, 320, 3)
    """
    height, width = image.shape[:2]
    size = font_size or max(12, min(width, height) // 20)
    font = ImageFont.load_default(size=size)
    average_char = max(1.0, font.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    lines = textwrap.wrap(text, width=max(8, int((width - 2 * size) / average_char))) or [""]
    line_height = int(size * 1.25)
    band = min(height, line_height * len(lines) + size)

    canvas = Image.fromarray(image).convert("RGBA")
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle([0, height - band, width, height], fill=(0, 0, 0, 160))
    y = height - band + size // 2
    for line in lines:
        draw.text((size, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_height
    return np.asarray(Image.alpha_composite(canvas, overlay).convert("RGB"))
