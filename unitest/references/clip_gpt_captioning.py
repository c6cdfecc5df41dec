"""A PyTorch reference of jmisilo/clip-gpt-captioning's `Net` at inference, written for these tests
from the facts listed in `image_captioning.converters.clip_gpt_captioning` (nothing copied).

Same module tree as upstream, so `state_dict()` has the upstream keys: `ie.model` (Hugging Face
`CLIPVisionModel`'s vision tower), `mp.transformer_encoder` + `mp.mapper`, `td.model`
(`GPT2LMHeadModel`). Random weights; widths and layer counts are parameters, so tests can keep
L's widths with fewer layers.
"""

import numpy as np
import torch
import transformers
from torch import nn

END_OF_TEXT = 50256


def sizes(size, clip_layers=None, mapper_layers=None, gpt2_layers=None, vocabulary_size=50257):
    """The upstream S or L configuration; `*_layers` override the depths, "tiny" is a 64-wide toy."""
    width, patch, mapper_depth, depth = {"S": (768, 32, 6, 12), "L": (1024, 14, 5, 24), "tiny": (64, 8, 2, 1)}[size]
    return {
        "width": width,
        "patch_size": patch,
        "image_size": 32 if size == "tiny" else 224,
        "clip_layers": clip_layers or depth,
        "mapper_layers": mapper_layers or mapper_depth,
        "gpt2_layers": gpt2_layers or depth,
        "vocabulary_size": vocabulary_size,
        "mapped_length": 4,
        "mapper_heads": 16,
    }


class ImageEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        width = config["width"]
        self.model = transformers.CLIPVisionModel(transformers.CLIPVisionConfig(
            hidden_size=width, intermediate_size=4 * width, num_hidden_layers=config["clip_layers"],
            num_attention_heads=width // 64, image_size=config["image_size"], patch_size=config["patch_size"],
            hidden_act="quick_gelu", layer_norm_eps=1e-5,
        ))  # in transformers 5 this is the tower itself, upstream's `CLIPModel(...).vision_model`

    def forward(self, pixels_nchw):
        return self.model(pixel_values=pixels_nchw).pooler_output


class Mapping(nn.Module):
    def __init__(self, config):
        super().__init__()
        width = config["width"]
        self.mapped_length = config["mapped_length"]
        self.width = width
        layer = nn.TransformerEncoderLayer(d_model=width, nhead=config["mapper_heads"], dim_feedforward=4 * width,
                                           dropout=0.1, batch_first=True)
        self.transformer_encoder = nn.TransformerEncoder(layer, num_layers=config["mapper_layers"],
                                                         enable_nested_tensor=False)
        self.mapper = nn.Linear(width, self.mapped_length * width)

    def forward(self, embedding):
        """One (1, E) embedding, 2-D as upstream: the encoder reads it as a one-token sequence."""
        return self.mapper(self.transformer_encoder(embedding)).view(self.mapped_length, self.width)


class TextDecoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        width = config["width"]
        self.model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
            vocab_size=config["vocabulary_size"], n_positions=1024, n_embd=width, n_layer=config["gpt2_layers"],
            n_head=width // 64, bos_token_id=END_OF_TEXT, eos_token_id=END_OF_TEXT,
        ))


class ReferenceNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ie = ImageEncoder(config)
        self.mp = Mapping(config)
        self.td = TextDecoder(config)

    @torch.no_grad()
    def start_embedding(self, embedding):
        """Upstream's `start_emb` (ep_len + 1, E): <|endoftext|>'s embedding, then the mapped ones."""
        wte = self.td.model.transformer.wte
        return torch.cat([wte(torch.tensor([END_OF_TEXT])), self.mp(embedding)], dim=0)

    @torch.no_grad()
    def greedy(self, embedding, max_len=40, temperature=1.0):
        """Upstream's `Net.forward` loop on one (1, E) embedding: GPT-2 re-run each step over the whole
        sequence, positions added before GPT-2 adds its own, argmax, stop after <|endoftext|>."""
        transformer = self.td.model.transformer
        start = self.start_embedding(embedding)
        tokens = []
        for _ in range(max_len):
            emb = torch.cat([start, transformer.wte(torch.tensor(tokens, dtype=torch.long))], dim=0) if tokens else start
            emb = emb + transformer.wpe(torch.arange(emb.shape[0]))
            logits = self.td.model(inputs_embeds=emb[None]).logits[0]
            token = int(torch.argmax(torch.softmax(logits / temperature, dim=-1), dim=1)[-1])
            tokens.append(token)
            if token == END_OF_TEXT:
                break
        return tokens


def make_reference(config, seed=0):
    torch.manual_seed(seed)
    net = ReferenceNet(config).eval()
    with torch.no_grad():  # LayerNorms start at (1, 0): give them values a wrong mapping would show
        for name, parameter in net.named_parameters():
            if "norm" in name or "ln_" in name or "layrnorm" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
    return net


def checkpoint_state_dict(net, legacy_buffers=False):
    """`net.state_dict()` as upstream saves it; `legacy_buffers` adds the position-id and causal-mask
    buffers that the transformers of upstream's requirements (4.27) wrote into state dicts."""
    state = {key: value.clone() for key, value in net.state_dict().items()}
    if legacy_buffers:
        vision = net.ie.model.embeddings
        state["ie.model.embeddings.position_ids"] = torch.arange(vision.num_positions)[None]
        for i in range(len(net.td.model.transformer.h)):
            state[f"td.model.transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 1024, 1024, dtype=torch.bool))
            state[f"td.model.transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    return state


@torch.no_grad()
def pooled_embeddings(net, images_nhwc):
    pixels = torch.from_numpy(np.ascontiguousarray(np.asarray(images_nhwc, "float32").transpose(0, 3, 1, 2)))
    return net.ie(pixels).numpy()
