"""Scene descriptions (what to draw) and their random sampling from a NumPy Generator.

A scene is pure data: rendering (`drawing.py`) and captioning (`captions.py`) both read it, so
the caption always describes what was drawn.
"""

import dataclasses

import numpy as np

from image_captioning.synthetic.vocabulary import (
    BACKGROUND_COLOURS,
    BACKGROUND_KINDS,
    MOTIONS,
    POSITION_CELLS,
    SHAPE_COLOURS,
    SHAPE_KINDS,
    SIZE_RADIUS,
)

# Largest random offset of a shape from its cell centre, as a fraction of the image side; with
# the large radius it keeps every shape inside its third of the image.
MAX_JITTER = 0.03


@dataclasses.dataclass(frozen=True)
class Shape:
    """One coloured shape.

    Args:
        kind: a SHAPE_KINDS entry.
        colour: a SHAPE_COLOURS key.
        size: "small" or "large".
        position: a POSITION_CELLS key.
        jitter: (dx, dy) offset from the cell centre, as fractions of the image side.
    """

    kind: str
    colour: str
    size: str
    position: str
    jitter: tuple = (0.0, 0.0)

    @property
    def words(self):
        """'large red circle'."""
        return f"{self.size} {self.colour} {self.kind}"

    @property
    def short_words(self):
        """'red circle'."""
        return f"{self.colour} {self.kind}"


@dataclasses.dataclass(frozen=True)
class Background:
    """A plain colour, a two-colour gradient, or a noise texture around one colour.

    Args:
        kind: "plain", "gradient" or "noise".
        colours: one BACKGROUND_COLOURS key, two for a gradient.
        vertical: gradient direction (top to bottom when True).
        texture_seed: seed of the noise texture.
    """

    kind: str
    colours: tuple
    vertical: bool = False
    texture_seed: int = 0

    @property
    def words(self):
        """'white background', 'white to grey gradient background', 'textured beige background'."""
        if self.kind == "gradient":
            return f"{self.colours[0]} to {self.colours[1]} gradient background"
        if self.kind == "noise":
            return f"textured {self.colours[0]} background"
        return f"{self.colours[0]} background"


@dataclasses.dataclass(frozen=True)
class ImageScene:
    """One or two shapes, in different cells and colours, on a background.

    Example:
    ```python
    scene = sample_image_scene(np.random.default_rng(0))
    scene.shapes[0].words, scene.background.words
    ```
    """

    shapes: tuple
    background: Background


@dataclasses.dataclass(frozen=True)
class VideoShot:
    """One continuous shot: a shape, still (`end_position` None) or moving in a straight line.

    Args:
        shape: the shape as it is in the first frame.
        background: a static background.
        num_frames: length of the shot.
        end_position: where the shape is in the last frame, or None if it does not move.
    """

    shape: Shape
    background: Background
    num_frames: int
    end_position: str = None


@dataclasses.dataclass(frozen=True)
class VideoScene:
    """One shot, or two shots separated by a hard cut.

    Args:
        shots: the VideoShots in order.
        fps: frames per second.
    """

    shots: tuple
    fps: int = 10

    @property
    def num_frames(self):
        return sum(shot.num_frames for shot in self.shots)

    @property
    def cut_frames(self):
        """Index of the first frame of every shot after the first."""
        starts, total = [], 0
        for shot in self.shots[:-1]:
            total += shot.num_frames
            starts.append(total)
        return tuple(starts)


def sample_shape(rng, position, colour):
    jitter = tuple(float(value) for value in rng.uniform(-MAX_JITTER, MAX_JITTER, size=2))
    return Shape(str(rng.choice(SHAPE_KINDS)), colour, str(rng.choice(tuple(SIZE_RADIUS))), position, jitter)


# Two shots of a cut differ at least this much in mean background colour (RGB distance), so the
# cut is plain to a scene detector.
MIN_CUT_CONTRAST = 80


def sample_background(rng, unlike=None):
    """A random background, whose mean colour is far from that of `unlike` when given."""
    while True:
        kind = str(rng.choice(BACKGROUND_KINDS))
        count = 2 if kind == "gradient" else 1
        colours = tuple(str(name) for name in rng.choice(tuple(BACKGROUND_COLOURS), size=count, replace=False))
        background = Background(kind, colours, bool(rng.integers(2)), int(rng.integers(2**31)))
        if unlike is None or _colour_distance(background, unlike) >= MIN_CUT_CONTRAST:
            return background


def _mean_colour(background):
    return np.mean([BACKGROUND_COLOURS[name] for name in background.colours], axis=0)


def _colour_distance(first, second):
    return float(np.linalg.norm(_mean_colour(first) - _mean_colour(second)))


def sample_image_scene(rng, num_shapes=None):
    """One or two shapes (two with probability 1/2) at distinct positions, in distinct colours."""
    num_shapes = num_shapes or int(rng.integers(1, 3))
    positions = rng.choice(tuple(POSITION_CELLS), size=num_shapes, replace=False)
    colours = rng.choice(tuple(SHAPE_COLOURS), size=num_shapes, replace=False)
    shapes = tuple(sample_shape(rng, str(p), str(c)) for p, c in zip(positions, colours))
    return ImageScene(shapes, sample_background(rng))


def sample_shot(rng, num_frames, moving, background):
    if moving:
        start, end = tuple(MOTIONS)[int(rng.integers(len(MOTIONS)))]
    else:
        start, end = str(rng.choice(tuple(POSITION_CELLS))), None
    return VideoShot(sample_shape(rng, start, str(rng.choice(tuple(SHAPE_COLOURS)))), background, num_frames, end)


def sample_video_scene(rng, with_cut=None, fps=10):
    """A 2-4 s video: one moving shape, or (with a cut) two shots on different backgrounds.

    Args:
        rng: a NumPy Generator.
        with_cut: force a cut (True) or none (False); None picks a cut with probability 1/3.
        fps: frames per second.
    """
    num_frames = int(rng.choice((2, 3, 4))) * fps
    if with_cut is None:
        with_cut = bool(rng.random() < 1 / 3)
    if not with_cut:
        return VideoScene((sample_shot(rng, num_frames, True, sample_background(rng)),), fps)
    first_length = num_frames // 2 + int(rng.integers(-fps // 2, fps // 2 + 1))
    first_background = sample_background(rng)
    first = sample_shot(rng, first_length, bool(rng.integers(2)), first_background)
    second = sample_shot(rng, num_frames - first_length, bool(rng.integers(2)), sample_background(rng, first_background))
    return VideoScene((first, second), fps)
