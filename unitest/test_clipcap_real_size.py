"""Real sizes, float32: ViT-B/32 + MLP prefix 10, and RN50x4 + Transformer prefix 40, each converted
from a file saved with torch.save in the official layout and a CLIP TorchScript archive."""

import pytest

from unitest.clipcap_checks import converted_logits_difference

pytestmark = pytest.mark.real_size
TOLERANCE = 1e-4


@pytest.mark.parametrize("mapper_type", ["mlp", "transformer"])
def test_converted_real_size_clipcap_matches_pytorch(mapper_type, tmp_path):
    difference = converted_logits_difference(tmp_path, mapper_type, tiny=False)
    print(f"ClipCap {mapper_type} end-to-end logits max abs diff: {difference:.3g}")
    assert difference <= TOLERANCE
