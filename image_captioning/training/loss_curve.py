"""Writes the loss history as CSV and as a small PNG plot (drawn with PIL: no plotting dependency)."""

import csv

from PIL import Image, ImageDraw

WIDTH, HEIGHT, MARGIN = 640, 360, 48
COLOURS = {"loss": (31, 119, 180), "val_loss": (255, 127, 14)}


def write_loss_history(history, csv_path, png_path):
    """history: {"loss": [...], "val_loss": [...]} per epoch."""
    names = [name for name in COLOURS if history.get(name)]
    with open(csv_path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(len(history["loss"])):
            writer.writerow([epoch + 1, *(history[name][epoch] if epoch < len(history[name]) else "" for name in names)])
    plot_losses({name: history[name] for name in names}, png_path)


def plot_losses(series, png_path):
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    values = [v for points in series.values() for v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    epochs = max(len(points) for points in series.values())
    x_of = lambda i: MARGIN + (WIDTH - 2 * MARGIN) * (i / max(epochs - 1, 1))
    y_of = lambda v: HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * ((v - low) / span)
    draw.rectangle([MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN], outline="black")
    draw.text((MARGIN, 8), f"loss per epoch (max {high:.3f}, min {low:.3f})", fill="black")
    draw.text((WIDTH // 2 - 16, HEIGHT - MARGIN + 12), "epoch", fill="black")
    for row, (name, points) in enumerate(series.items()):
        colour = COLOURS[name]
        coordinates = [(x_of(i), y_of(v)) for i, v in enumerate(points)]
        if len(coordinates) > 1:
            draw.line(coordinates, fill=colour, width=2)
        for x, y in coordinates:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        draw.text((WIDTH - MARGIN - 90, MARGIN + 8 + 14 * row), name, fill=colour)
    image.save(png_path)
