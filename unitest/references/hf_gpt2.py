"""Random-weight Hugging Face GPT-2 references."""

import torch
import transformers

from unitest.references.clipcap_official import REAL_GPT2, TINY_GPT2


def make_hf_gpt2(tiny=True, seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(**(TINY_GPT2 if tiny else REAL_GPT2))
    return transformers.GPT2LMHeadModel(config).eval()


def hf_logits(model, inputs_embeds):
    with torch.no_grad():
        return model(inputs_embeds=torch.from_numpy(inputs_embeds)).logits.numpy()
