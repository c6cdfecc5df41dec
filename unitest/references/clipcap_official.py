"""PyTorch reference of the official ClipCap model, written from its published definition
(rmokady/CLIP_prefix_caption, train.py): MLP and TransformerMapper, GPT-2 from Hugging Face."""

import torch
import torch.nn.functional as F
import transformers
from torch import nn

# Head width 64 as in every GPT-2 size: heads are inferred from it, since shapes cannot tell them.
TINY_GPT2 = dict(vocab_size=300, n_positions=64, n_embd=128, n_layer=2, n_head=2)
REAL_GPT2 = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12)


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class MlpTransformer(nn.Module):
    def __init__(self, in_dim, h_dim):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, h_dim)
        self.fc2 = nn.Linear(h_dim, in_dim)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class MultiHeadAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.to_queries = nn.Linear(dim, dim, bias=False)
        self.to_keys_values = nn.Linear(dim, dim * 2, bias=False)
        self.project = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        queries = self.to_queries(x).reshape(b, n, self.num_heads, c // self.num_heads)
        keys_values = self.to_keys_values(x).reshape(b, n, 2, self.num_heads, c // self.num_heads)
        keys, values = keys_values[:, :, 0], keys_values[:, :, 1]
        attention = torch.einsum("bnhd,bmhd->bnmh", queries, keys) * self.scale
        attention = attention.softmax(dim=2)
        out = torch.einsum("bnmh,bmhd->bnhd", attention, values).reshape(b, n, c)
        return self.project(out)


class TransformerLayer(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MlpTransformer(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, dim, num_heads, num_layers, mlp_ratio=2.0):
        super().__init__()
        self.layers = nn.ModuleList([TransformerLayer(dim, num_heads, mlp_ratio) for _ in range(num_layers)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class TransformerMapper(nn.Module):
    def __init__(self, dim_clip, dim_embedding, prefix_length, clip_length, num_layers=8):
        super().__init__()
        self.clip_length = clip_length
        self.transformer = Transformer(dim_embedding, 8, num_layers)
        self.linear = nn.Linear(dim_clip, clip_length * dim_embedding)
        self.prefix_const = nn.Parameter(torch.randn(prefix_length, dim_embedding))

    def forward(self, x):
        x = self.linear(x).view(x.shape[0], self.clip_length, -1)
        prefix = self.prefix_const.unsqueeze(0).expand(x.shape[0], *self.prefix_const.shape)
        return self.transformer(torch.cat((x, prefix), dim=1))[:, self.clip_length :]


class ClipCaptionModel(nn.Module):
    def __init__(self, prefix_length, gpt_config, prefix_size=512, mapping_type="mlp", clip_length=None, num_layers=8):
        super().__init__()
        self.prefix_length = prefix_length
        self.gpt = transformers.GPT2LMHeadModel(transformers.GPT2Config(**gpt_config))
        self.gpt_embedding_size = self.gpt.transformer.wte.weight.shape[1]
        if mapping_type == "mlp":
            size = self.gpt_embedding_size * prefix_length
            self.clip_project = MLP((prefix_size, size // 2, size))
        else:
            self.clip_project = TransformerMapper(prefix_size, self.gpt_embedding_size, prefix_length, clip_length, num_layers)

    def prefix_embeddings(self, prefix):
        return self.clip_project(prefix).view(-1, self.prefix_length, self.gpt_embedding_size)

    def forward(self, tokens, prefix):
        embedding_text = self.gpt.transformer.wte(tokens)
        embedding_cat = torch.cat((self.prefix_embeddings(prefix), embedding_text), dim=1)
        return self.gpt(inputs_embeds=embedding_cat).logits


def make_reference_clipcap(mapper_type, seed=0, tiny=False):
    """Random-weight official ClipCap: MLP (ViT-B/32 512-d, prefix 10) or Transformer (RN50x4 640-d, prefix 40)."""
    torch.manual_seed(seed)
    gpt_config = TINY_GPT2 if tiny else REAL_GPT2
    if mapper_type == "mlp":
        model = ClipCaptionModel(4 if tiny else 10, gpt_config, prefix_size=32 if tiny else 512)
    else:
        model = ClipCaptionModel(
            6 if tiny else 40,
            gpt_config,
            prefix_size=48 if tiny else 640,
            mapping_type="transformer",
            clip_length=5 if tiny else 40,
            num_layers=2 if tiny else 8,
        )
    return model.eval()


def official_state_dict(model):
    """The state dict as the official files carry it: GPT-2's causal-mask buffers included."""
    state = dict(model.state_dict())
    n_positions = model.gpt.config.n_positions
    for i in range(model.gpt.config.n_layer):
        state[f"gpt.transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(n_positions, n_positions)).view(1, 1, n_positions, n_positions)
        state[f"gpt.transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    return state


def state_dict_numpy(state_dict):
    return {key: value.detach().numpy() for key, value in state_dict.items()}
