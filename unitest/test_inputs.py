"""Input expansion and robust image loading, on the shared photos and on bad files made here."""

import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from image_captioning.media.sources import WorkItem, expand_inputs
from image_captioning.media.images import array_to_rgb, cap_short_side, load_image
from image_captioning.results import ItemError


@pytest.fixture
def images(shared_data):
    return shared_data / "images"


def _rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


# -- expansion ------------------------------------------------------------------------------


def test_mixed_inputs_keep_order_and_expand_in_place(tmp_path, images, shared_data):
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(images / "orange.jpg", folder / "b.jpg")
    shutil.copy(images / "horse.png", folder / "sub" / "a.png")
    shutil.copy(images / "apple.jpg", folder / "a.jpg")
    (folder / "notes.txt").write_text("not media")
    array = np.zeros((4, 5, 3), np.uint8)
    batch = np.zeros((2, 4, 5, 3), np.uint8)
    pil = Image.new("RGB", (3, 3))

    items = list(
        expand_inputs(
            [
                images / "chelsea.png",
                str(folder),
                array,
                str(images / "bu*.jpg"),
                shared_data / "videos" / "tree.avi",
                pil,
                batch,
                tmp_path / "missing.jpg",
                str(tmp_path / "nothing*.png"),
                42,
            ]
        )
    )
    sources = [item.source for item in items]
    assert [item.index for item in items] == list(range(len(items)))
    assert sources[0] == str(images / "chelsea.png")
    assert sources[1:4] == [str(folder / "a.jpg"), str(folder / "b.jpg"), str(folder / "sub" / "a.png")]
    assert sources[4] == "<array #2>" and items[4].image is array
    assert sources[5:7] == [str(images / "building.jpg"), str(images / "butterfly.jpg")]
    assert items[7].kind == "video" and items[7].path == shared_data / "videos" / "tree.avi"
    assert sources[8] == "<PIL image #5>" and items[8].image is pil
    assert sources[9:11] == ["<array #6[0]>", "<array #6[1]>"]
    assert [item.kind for item in items[11:]] == ["error"] * 3
    assert "file not found" in items[11].error and "missing.jpg" in items[11].error
    assert "matched no image or video" in items[12].error
    assert "unsupported input type int" in items[13].error


def test_directory_expansion_is_sorted_recursive_and_filtered(tmp_path, images):
    for name in ["z.png", "m/b.jpg", "m/a.JPG", "a/c.webp", "readme.md", "m/clip.mp4"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    recursive = [Path(i.source).relative_to(tmp_path).as_posix() for i in expand_inputs(tmp_path)]
    assert recursive == ["a/c.webp", "m/a.JPG", "m/b.jpg", "m/clip.mp4", "z.png"]
    flat = [Path(i.source).name for i in expand_inputs(tmp_path, recursive=False)]
    assert flat == ["z.png"]
    kinds = {Path(i.source).name: i.kind for i in expand_inputs(tmp_path)}
    assert kinds["clip.mp4"] == "video" and kinds["c.webp"] == "image"


def test_empty_directory_and_explicit_unknown_extension(tmp_path, images):
    (tmp_path / "empty").mkdir()
    shutil.copy(images / "apple.jpg", tmp_path / "photo.unknownext")
    items = list(expand_inputs([tmp_path / "empty", tmp_path / "photo.unknownext"]))
    assert items[0].kind == "error" and "no image or video files" in items[0].error
    # A file named explicitly is tried whatever its extension; PIL identifies it by content.
    assert items[1].kind == "image"
    assert load_image(items[1]).shape == (512, 512, 3)


# -- real photos ----------------------------------------------------------------------------


def test_every_shared_photo_loads_as_uint8_rgb(images):
    for path in sorted(images.iterdir()):
        rgb = load_image(path)
        with Image.open(path) as original:
            width, height = original.size
        assert rgb.dtype == np.uint8 and rgb.shape == (height, width, 3), path


def test_grayscale_photo_becomes_three_equal_channels(images):
    rgb = load_image(images / "basketball1.png")
    gray = np.asarray(Image.open(images / "basketball1.png"))
    assert np.array_equal(rgb[..., 0], gray) and np.array_equal(rgb[..., 1], gray) and np.array_equal(rgb[..., 2], gray)


def test_work_item_and_pil_and_array_inputs(images):
    expected = _rgb(images / "coffee.png")
    item = WorkItem(0, "coffee", "image", path=images / "coffee.png")
    assert np.array_equal(load_image(item), expected)
    assert np.array_equal(load_image(Image.open(images / "coffee.png")), expected)
    assert np.array_equal(load_image(expected.copy()), expected)


# -- colour modes and bit depths ------------------------------------------------------------


def test_rgba_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (255, 0, 0, 0)  # fully transparent
    rgba[0, 2] = (0, 0, 0, 128)  # half-transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    rgb = load_image(tmp_path / "alpha.png")
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[0, 1]) == (255, 255, 255)
    assert tuple(rgb[0, 2]) == (127, 127, 127)


def test_palette_png_with_and_without_transparency(tmp_path, images):
    photo = Image.open(images / "fruits.jpg").convert("RGB")
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    palette.save(tmp_path / "palette.png")
    assert Image.open(tmp_path / "palette.png").mode == "P"
    assert np.array_equal(load_image(tmp_path / "palette.png"), np.asarray(palette.convert("RGB")))

    transparent_index = int(np.asarray(palette)[0, 0])
    palette.save(tmp_path / "palette_t.png", transparency=transparent_index)
    rgb = load_image(tmp_path / "palette_t.png")
    assert tuple(rgb[0, 0]) == (255, 255, 255)


def test_cmyk_jpeg_converts_to_rgb(tmp_path, images):
    original = Image.open(images / "baboon.jpg").convert("RGB")
    original.convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    rgb = load_image(tmp_path / "cmyk.jpg")
    assert rgb.shape == (512, 512, 3)
    assert np.abs(rgb.astype(int) - np.asarray(original, int)).mean() < 8


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    gray16 = np.array([[0, 257, 32896], [65535, 1000, 60000]], np.uint16)
    Image.fromarray(gray16).save(tmp_path / "gray16.png")
    assert Image.open(tmp_path / "gray16.png").mode.startswith("I")
    rgb = load_image(tmp_path / "gray16.png")
    assert rgb[..., 0].tolist() == [[0, 1, 128], [255, 4, 233]]
    assert np.array_equal(rgb[..., 0], rgb[..., 2])

    color16 = np.zeros((2, 2, 3), np.uint16)
    color16[0, 0] = (65535, 32896, 0)  # RGB
    cv2.imwrite(str(tmp_path / "color16.png"), color16[..., ::-1])  # OpenCV writes BGR
    assert tuple(load_image(tmp_path / "color16.png")[0, 0]) == (255, 128, 0)


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((40, 60, 3), np.uint8)  # landscape as stored
    stored[:10, :10] = (255, 0, 0)  # red marker top-left
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    image.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    rgb = load_image(tmp_path / "rotated.jpg")
    assert rgb.shape == (60, 40, 3)  # upright portrait
    assert rgb[:10, -10:, 0].mean() > 200 and rgb[:10, -10:, 1].mean() < 60  # marker now top-right
    assert rgb[:10, :10, 0].mean() < 60


def test_arrays_of_other_dtypes_and_shapes():
    assert np.array_equal(array_to_rgb(np.full((2, 2), 0.5, np.float32)), np.full((2, 2, 3), 128, np.uint8))
    assert array_to_rgb(np.full((2, 2, 3), 200.0))[0, 0].tolist() == [200, 200, 200]
    assert array_to_rgb(np.full((2, 2, 1), 65535, np.uint16))[0, 0].tolist() == [255, 255, 255]
    assert array_to_rgb(np.ones((2, 2), bool))[0, 0].tolist() == [255, 255, 255]
    rgba = np.zeros((1, 1, 4), np.uint8)
    assert array_to_rgb(rgba)[0, 0].tolist() == [255, 255, 255]
    with pytest.raises(ItemError, match=r"<array #7>: array of shape \(2, 2, 5\) is not an image"):
        load_image(np.zeros((2, 2, 5), np.uint8), name="<array #7>")


# -- large images ---------------------------------------------------------------------------


def test_big_jpeg_is_downscaled_while_decoding(tmp_path):
    height, width = 4000, 6000
    gradient = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    big = np.broadcast_to(gradient, (height, width, 3)).astype(np.uint8)
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=80)
    rgb = load_image(tmp_path / "big.jpg", max_short_side=512)
    assert rgb.shape == (512, 768, 3)
    assert abs(int(rgb[256, 0, 0]) - 0) < 6 and abs(int(rgb[256, -1, 0]) - 255) < 6
    assert load_image(tmp_path / "big.jpg", max_short_side=None).shape == (height, width, 3)


def test_cap_short_side_keeps_aspect():
    assert cap_short_side(np.zeros((300, 900, 3), np.uint8), 100).shape == (100, 300, 3)
    assert cap_short_side(np.zeros((50, 90, 3), np.uint8), 100).shape == (50, 90, 3)


def _png_header_only(path, width, height):
    """A PNG that declares width x height but holds one row of data: cheap to make, a bomb to decode."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 16))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_with_a_clear_message(tmp_path):
    _png_header_only(tmp_path / "bomb.png", 30000, 30000)  # 900 megapixels
    with pytest.raises(ItemError) as info:
        load_image(tmp_path / "bomb.png")
    message = str(info.value)
    assert "bomb.png" in message and "too large" in message and "MAX_IMAGE_PIXELS" in message

    _png_header_only(tmp_path / "wide.png", 20000, 2000)  # 40 megapixels: under PIL's limit, over ours
    with pytest.raises(ItemError, match=r"wide\.png: image is 20000x2000 = 40 megapixels, above the limit of 10"):
        load_image(tmp_path / "wide.png", max_pixels=10_000_000)


# -- bad files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: None, "file not found"),
        (lambda p: p.write_bytes(b""), r"file is empty \(0 bytes\)"),
        (lambda p: p.write_text("hello, I am a text file\n"), r"not a recognised image format \(file starts with b'hello"),
    ],
    ids=["missing", "zero-byte", "text-named-jpg"],
)
def test_bad_files_raise_item_errors_naming_the_file(tmp_path, make, reason):
    path = tmp_path / "photo.jpg"
    make(path)
    with pytest.raises(ItemError, match=reason) as info:
        load_image(path)
    assert str(info.value).startswith(str(path))
    assert info.value.fix


def test_truncated_jpeg_raises_item_error(tmp_path, images):
    data = (images / "starry_night.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ItemError, match=r"cut\.jpg: cannot decode the JPEG data .*truncated or corrupt"):
        load_image(tmp_path / "cut.jpg")


def test_truncated_png_raises_item_error(tmp_path, images):
    data = (images / "rocket.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 3])
    with pytest.raises(ItemError, match=r"cut\.png: .*truncated or corrupt"):
        load_image(tmp_path / "cut.png")


def test_directory_given_to_load_image(tmp_path):
    with pytest.raises(ItemError, match="is a directory"):
        load_image(tmp_path)
