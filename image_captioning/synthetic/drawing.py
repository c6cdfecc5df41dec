"""Rasterises scenes into uint8 RGB arrays with NumPy and OpenCV's integer polygon filling."""

import math

import cv2
import numpy as np

from image_captioning.synthetic.vocabulary import (
    BACKGROUND_COLOURS,
    SHAPE_COLOURS,
    SHAPE_KINDS,
    SIZE_RADIUS,
    cell_centre,
)

# OpenCV draws with sub-pixel precision when points are given as integers times 2**SHIFT.
SHIFT = 4
NOISE_GRID = 8
NOISE_STRENGTH = 22.0


def render_background(background, image_size):
    """The background of a scene as an (image_size, image_size, 3) uint8 RGB array."""
    first = np.array(BACKGROUND_COLOURS[background.colours[0]], dtype=np.float64)
    if background.kind == "gradient":
        second = np.array(BACKGROUND_COLOURS[background.colours[1]], dtype=np.float64)
        ramp = np.linspace(0.0, 1.0, image_size)[:, None]
        line = first * (1.0 - ramp) + second * ramp
        pixels = line[:, None, :] if background.vertical else line[None, :, :]
        pixels = np.broadcast_to(pixels, (image_size, image_size, 3))
    elif background.kind == "noise":
        pixels = first + _smooth_noise(background.texture_seed, image_size)[..., None]
    else:
        pixels = np.broadcast_to(first, (image_size, image_size, 3))
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def draw_shape(canvas, shape, centre=None):
    """Draws `shape` on `canvas` in place, at `centre` (pixels) or its own position + jitter."""
    image_size = canvas.shape[0]
    if centre is None:
        centre = shape_centre(shape, shape.position, image_size)
    radius = SIZE_RADIUS[shape.size] * image_size
    colour = SHAPE_COLOURS[shape.colour]
    points = np.rint(np.asarray(_outline(shape.kind, centre, radius)) * 2**SHIFT).astype(np.int32)
    cv2.fillPoly(canvas, [points], colour, lineType=cv2.LINE_AA, shift=SHIFT)
    return canvas


def shape_centre(shape, position, image_size):
    """Pixel centre of `shape` when placed at `position`, with the shape's jitter."""
    x, y = cell_centre(position, image_size)
    return (x + shape.jitter[0] * image_size, y + shape.jitter[1] * image_size)


def render_image_scene(scene, image_size=224):
    """An ImageScene as an (image_size, image_size, 3) uint8 RGB array."""
    canvas = np.ascontiguousarray(render_background(scene.background, image_size))
    for shape in scene.shapes:
        draw_shape(canvas, shape)
    return canvas


def render_video_frames(video, image_size=224):
    """A VideoScene as a (num_frames, image_size, image_size, 3) uint8 RGB array."""
    frames = []
    for shot in video.shots:
        background = render_background(shot.background, image_size)
        start = shape_centre(shot.shape, shot.shape.position, image_size)
        end = shape_centre(shot.shape, shot.end_position or shot.shape.position, image_size)
        for index in range(shot.num_frames):
            progress = index / max(shot.num_frames - 1, 1)
            centre = tuple(a + (b - a) * progress for a, b in zip(start, end))
            frames.append(draw_shape(background.copy(), shot.shape, centre))
    return np.stack(frames)


def _outline(kind, centre, radius):
    """Polygon (x, y) points of a shape whose bounding circle has `radius`."""
    cx, cy = centre
    if kind == "circle":
        return _regular_polygon(cx, cy, radius, 64, 0.0)
    if kind == "square":
        return _regular_polygon(cx, cy, radius * 0.85 * math.sqrt(2), 4, math.pi / 4)
    if kind == "triangle":
        return _regular_polygon(cx, cy + radius * 0.2, radius, 3, -math.pi / 2)
    if kind == "star":
        outer = _regular_polygon(cx, cy, radius, 5, -math.pi / 2)
        inner = _regular_polygon(cx, cy, radius * 0.45, 5, -math.pi / 2 + math.pi / 5)
        return [point for pair in zip(outer, inner) for point in pair]
    if kind == "cross":
        arm, half = radius * 0.9, radius * 0.32
        corners = [(half, arm), (half, half), (arm, half), (arm, -half), (half, -half), (half, -arm),
                   (-half, -arm), (-half, -half), (-arm, -half), (-arm, half), (-half, half), (-half, arm)]
        return [(cx + dx, cy + dy) for dx, dy in corners]
    raise ValueError(f"unknown shape kind {kind!r}; expected one of {SHAPE_KINDS}")


def _regular_polygon(cx, cy, radius, sides, start_angle):
    angles = start_angle + 2 * math.pi * np.arange(sides) / sides
    return [(cx + radius * math.cos(angle), cy + radius * math.sin(angle)) for angle in angles]


def _smooth_noise(seed, image_size):
    """Blotchy grey noise: a coarse Gaussian grid bilinearly upsampled, plus fine grain."""
    rng = np.random.default_rng(seed)
    coarse = rng.normal(size=(NOISE_GRID + 1, NOISE_GRID + 1))
    position = np.linspace(0.0, NOISE_GRID, image_size, endpoint=False)
    low = position.astype(np.int64)
    weight = position - low
    rows = coarse[low] * (1 - weight)[:, None] + coarse[low + 1] * weight[:, None]
    smooth = rows[:, low] * (1 - weight)[None, :] + rows[:, low + 1] * weight[None, :]
    grain = rng.normal(scale=0.35, size=(image_size, image_size))
    return NOISE_STRENGTH * (smooth + grain)
