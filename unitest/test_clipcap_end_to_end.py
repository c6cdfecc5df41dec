"""Official-layout files -> convert script -> from_pretrained -> logits equal PyTorch's (tiny sizes)."""

import pytest

from unitest.clipcap_checks import converted_logits_difference

TOLERANCE = 1e-5


@pytest.mark.parametrize("mapper_type", ["mlp", "transformer"])
def test_converted_tiny_clipcap_matches_pytorch(mapper_type, tmp_path):
    assert converted_logits_difference(tmp_path, mapper_type, tiny=True) <= TOLERANCE
