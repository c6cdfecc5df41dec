"""clip-gpt-captioning at real widths, float32, random weights, from the shared photos' pixels:
S at its full size (ViT-B/32 12 layers + 6-layer mapper + GPT-2 124M); L at its widths (ViT-L/14
at 224 px, 1024-wide 5-layer mapper, GPT-2 medium's 1024 width) with 2 CLIP and 2 GPT-2 layers
of 24, to keep the suite's time. Each converted through the `convert` CLI from a torch.save file;
prefix within 1e-4 on every shared photo, and the greedy tokens of the "clip-gpt-captioning" preset
identical to the upstream loop's (40 tokens, no cache, positions added twice) on the first
GREEDY_PHOTOS of them (upstream's loop recomputes the whole sequence per token: about 5 s a photo)."""

import pytest

from image_captioning.cli.main import main as cli_main
from unitest.clip_gpt_captioning_checks import convert_reference, greedy_tokens, photo_pixels, prefix_difference
from unitest.references.clip_gpt_captioning import sizes

pytestmark = pytest.mark.real_size
TOLERANCE = 1e-4
GREEDY_PHOTOS = 4
CONFIGS = {"S": sizes("S"), "L-2-layers": sizes("L", clip_layers=2, gpt2_layers=2)}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_converted_clip_gpt_captioning_matches_upstream_on_photos(name, tmp_path, shared_data):
    reference, captioner = convert_reference(tmp_path, CONFIGS[name], seed=5)
    photos = sorted((shared_data / "images").glob("*.jpg"))
    images = photo_pixels(photos, captioner.resolution)
    difference, embeddings = prefix_difference(reference, captioner, images)
    print(f"clip-gpt-captioning {name}: CLIP + prefix max abs diff {difference:.3g}")
    assert difference <= TOLERANCE
    expected, ours = greedy_tokens(reference, captioner, embeddings[:GREEDY_PHOTOS])
    assert ours == expected
    if name == "S":  # the CLI on the converted folder: photos, and a video -> SRT + JSON
        out = tmp_path / "captions"
        video = shared_data / "videos" / "tree.avi"
        code = cli_main(["caption", "--model", str(tmp_path / "converted"), *map(str, photos[:2]), str(video),
                         "--frames", "3", "--formats", "srt", "json", "--out", str(out), "--no-progress"])
        assert code == 0
        assert (out / "tree.srt").read_text().count(" --> ") == 3
        assert (out / "tree.json").is_file() and (out / "captions.jsonl").read_text().count("\n") == 2
