"""Everything a synthetic scene can contain, with the words used to describe it.

Shape colours are saturated and background colours are greys or muted tones, so a shape's
colour can be read back from the pixels by nearest-colour matching.
"""

SHAPE_KINDS = ("circle", "square", "triangle", "star", "cross")

SHAPE_COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (30, 70, 220),
    "yellow": (245, 215, 20),
    "orange": (245, 130, 20),
    "purple": (130, 40, 170),
    "pink": (245, 110, 190),
    "cyan": (20, 200, 220),
}

BACKGROUND_COLOURS = {
    "white": (245, 245, 245),
    "light grey": (195, 195, 195),
    "grey": (128, 128, 128),
    "dark grey": (60, 60, 60),
    "black": (15, 15, 15),
    "beige": (225, 212, 185),
}

BACKGROUND_KINDS = ("plain", "gradient", "noise")

# Radius of the shape's bounding circle, as a fraction of the image side.
SIZE_RADIUS = {"small": 0.075, "large": 0.13}

# Positions are cells of a 3x3 grid, as (column, row); a shape never leaves its cell.
POSITION_CELLS = {
    "left": (0, 1),
    "right": (2, 1),
    "top": (1, 0),
    "bottom": (1, 2),
    "centre": (1, 1),
}

POSITION_PHRASES = {
    "left": "on the left",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
    "centre": "in the centre",
}

# Straight-line motions of video shapes: (start, end) -> direction word.
MOTIONS = {
    ("left", "right"): "to the right",
    ("right", "left"): "to the left",
    ("top", "bottom"): "downwards",
    ("bottom", "top"): "upwards",
}


def with_article(phrase):
    """'a red circle', 'an orange star'."""
    return f"{'an' if phrase[0] in 'aeiou' else 'a'} {phrase}"


def cell_centre(position, image_size):
    """Pixel (x, y) of the centre of a position's grid cell."""
    column, row = POSITION_CELLS[position]
    return ((column + 0.5) * image_size / 3, (row + 0.5) * image_size / 3)


def relation(first, second):
    """'to the left of', 'above', ... when the two cells share a row or column, else None."""
    (column_a, row_a), (column_b, row_b) = POSITION_CELLS[first], POSITION_CELLS[second]
    if row_a == row_b and column_a != column_b:
        return "to the left of" if column_a < column_b else "to the right of"
    if column_a == column_b and row_a != row_b:
        return "above" if row_a < row_b else "below"
    return None
