"""jmisilo/clip-gpt-captioning checkpoints (CLIP -> Transformer-encoder mapping -> GPT-2) -> ClipCapModel.

Upstream facts, read at commit a6ebb0efc3045b8279418db7ba20a5113a2614c9 (`src/...` paths):

- Image embedding: `ImageEncoder` loads `CLIPModel.from_pretrained(name).vision_model` and its
  `CLIPProcessor` (`model/model.py` L19-20) and returns `pooler_output` (L22-27): the class token
  after `post_layernorm`, not projected (`visual_projection` is outside `vision_model`) and not
  L2-normalised. Width = the CLIP vision `hidden_size`: 768 (ViT-B/32), 1024 (ViT-L/14).
- Mapping network (`Mapping`, L30-90): `nn.TransformerEncoder` of `num_layers`
  `nn.TransformerEncoderLayer(d_model=embed_size, nhead=n_heads, dim_feedforward=embed_size *
  forward_expansion, dropout, batch_first=True)` (L52-62): PyTorch's defaults, so post-norm, ReLU,
  LayerNorm eps 1e-5, and no final norm. Then `mapper = nn.Linear(embed_size, ep_len * embed_size)`
  (L64), viewed as `(ep_len, embed_size)` at inference (L68-80). `embed_size` is the CLIP width
  (L152) and must equal GPT-2's `n_embd` (L160-162).
- Sizes (`utils/config.py`): S = "openai/clip-vit-base-patch32" + "gpt2" (L15-16), `ep_len` 4,
  6 layers, 16 heads, `forward_expansion` 4, `max_len` 40 (L25-30); L =
  "openai/clip-vit-large-patch14" + "gpt2-medium" (L40-41), `ep_len` 4, 5 layers, 16 heads,
  `forward_expansion` 4, `max_len` 40 (L50-55). Heads (16) cannot be read off shapes.
- At inference the embedding is a 2-D `(1, E)` tensor (L193), which a batch-first encoder reads as
  one unbatched sequence of ONE token (L196): self-attention over that single token.
  (`train_forward` passes a `(N, E)` batch the same way, L252, so in training the N images of a
  batch form one sequence and attend to each other; we follow inference, which is what the
  released weights are used with.)
- How the prefix meets GPT-2: `start_emb = cat([wte(bos_token_id), mapped])`, `ep_len + 1`
  positions, GPT-2's bos being <|endoftext|> 50256 (L198-206). Each step re-runs GPT-2 over
  `cat([start_emb, wte(tokens)])` (L208-217) after adding `wpe(arange(len))` itself (L219-224),
  and `GPT2LMHeadModel(inputs_embeds=...)` (L109-114) adds `wpe` again: every position's embedding
  is counted twice. We fold that into the converted `wpe` (2 * wpe): the same sums, and our
  generator needs no special case. (Training has no <|endoftext|> first, L252-258, and also adds
  positions twice, L263-268.)
- Decoding (`Net.forward`, L178-243): `softmax(logits / temperature)` then argmax (L227-229), so
  greedy whatever the temperature (<= 0 becomes 1.0, L188-190); at most `max_len` = 40 tokens
  (L209); stops after <|endoftext|> (L235-236), which stays in `tokens`; the text is
  `decode(tokens[:-1])` stripped with its first letter upper-cased (L238-241) — `tokens[:-1]`
  also drops the 40th token of a caption that never ended. Our preset:
  `generation.GENERATION_PRESETS["clip-gpt-captioning"]`.
- What the checkpoint holds: `predict.py` loads it with `model.load_state_dict(checkpoint)` (L88-89),
  so it is the whole `Net.state_dict()`: `ie.model.*` (the CLIP vision tower), `mp.*` (the mapping)
  and `td.model.*` (GPT-2 with its tied `lm_head`). `Trainer.save_ckp` wraps the same dict under
  "model_state_dict" (`model/trainer.py` L169-181). CLIP is frozen in training and GPT-2 is frozen
  except its first and last 14 parameters (`wte`, `wpe`, the first block; the last block, `ln_f`,
  L171-176), so the checkpoint's GPT-2 is not Hugging Face's; only the processor and the
  tokenizer come from Hugging Face at run time (L19, L103).
- Released files (`utils/downloads.py` L7-10, L20-22): Google Drive ids S
  1pSQruQyg8KJq6VmzhMLFbT_VaHJMdlWF, L 1Gh32arzhW06C1ZJyzcJSSfdJDi3RgWoG (`readme.md` L17-29:
  S 256M parameters, L 736M).

Hugging Face files (`model.safetensors` / `pytorch_model.bin` of the CLIP and GPT-2 named above)
fill a part a checkpoint lacks (e.g. one saved with only `mp.*`); a part present in both is an
error, since every key must be used.
"""

from custom_architectures.clip import CLIPVisionTransformer
from custom_architectures.clipcap import ClipCapModel, ClipGPTMapper
from custom_architectures.gpt2 import GPT2Decoder
from image_captioning.converters.gpt2 import fill_gpt2, gpt2_buffer_keys, infer_gpt2_config
from image_captioning.converters.hf_clip import fill_hf_clip_vision, infer_hf_clip_vision_config
from image_captioning.converters.torch_files import load_state_dict
from image_captioning.converters.weight_table import WeightConversionError, WeightTable

CLIP_PREFIX = "ie.model"
MAPPER_PREFIX = "mp."
GPT2_PREFIX = "td.model.transformer."
LM_HEAD_KEY = "td.model.lm_head.weight"
CLIP_BUFFERS = (f"{CLIP_PREFIX}.embeddings.position_ids",)  # saved by older transformers; holds no weights
MAPPER_HEADS = 16  # `n_heads` of both upstream configs; shapes cannot tell
START_TOKEN = 50256  # GPT-2's bos_token_id, <|endoftext|>
SIZES = {768: "S", 1024: "L"}  # the shared CLIP / mapper / GPT-2 width of each upstream config

# Where each part lives in a checkpoint, and where it lives in a Hugging Face file (old -> new prefix).
PARTS = {
    "clip": {"key": f"{CLIP_PREFIX}.embeddings.patch_embedding.weight", "hf": {"vision_model.": f"{CLIP_PREFIX}."},
             "hf_ignored": ("text_model.", "text_projection.", "visual_projection.", "logit_scale"),
             "file": "the Hugging Face CLIP (openai/clip-vit-base-patch32 for S, openai/clip-vit-large-patch14 for L)"},
    "gpt2": {"key": f"{GPT2_PREFIX}wte.weight", "hf": {"transformer.": GPT2_PREFIX, "lm_head.": "td.model.lm_head.", "": GPT2_PREFIX},
             "hf_ignored": (),
             "file": "the Hugging Face GPT-2 (gpt2 for S, gpt2-medium for L)"},
}


def merge_hugging_face_parts(checkpoint, hf_clip=None, hf_gpt2=None):
    """The checkpoint's keys plus, for a part it lacks, that part's Hugging Face keys renamed into
    the checkpoint's layout; raises naming the part and the file when one is missing or doubled."""
    merged = dict(checkpoint)
    for part, hf_state in (("clip", hf_clip), ("gpt2", hf_gpt2)):
        spec = PARTS[part]
        in_checkpoint = spec["key"] in checkpoint
        if in_checkpoint and hf_state is not None:
            raise WeightConversionError(
                f"The checkpoint already holds the {part} weights ({spec['key']}); drop the {part} file "
                "(the checkpoint's are the ones the model was trained with)."
            )
        if not in_checkpoint and hf_state is None:
            raise WeightConversionError(
                f"The checkpoint has no {part} weights ({spec['key']}): pass {spec['file']} weights file."
            )
        if hf_state is None:
            continue
        for key, value in hf_state.items():
            if key.startswith(spec["hf_ignored"]):
                continue
            old = next((prefix for prefix in spec["hf"] if key.startswith(prefix)), None)
            # A key of no known part keeps its name, so that the table reports it as unexpected.
            merged[key if old is None else spec["hf"][old] + key[len(old):]] = value
    return merged


def infer_clip_gpt_captioning_config(state_dict):
    """The image encoder, mapper and GPT-2 constructor arguments read from shapes, and the size ("S", "L")."""
    mapper_key = f"{MAPPER_PREFIX}mapper.weight"
    if mapper_key not in state_dict:
        raise WeightConversionError(
            f"Not a clip-gpt-captioning checkpoint: no {mapper_key!r} (its mapping network's output layer)."
        )
    image_encoder = infer_hf_clip_vision_config(state_dict, prefix=CLIP_PREFIX, use_projection=False)
    decoder = infer_gpt2_config(state_dict, GPT2_PREFIX)
    mapped_width, width = state_dict[mapper_key].shape
    layer_prefix = f"{MAPPER_PREFIX}transformer_encoder.layers."
    layers = {key[len(layer_prefix):].split(".")[0] for key in state_dict if key.startswith(layer_prefix)}
    feed_forward_key = f"{layer_prefix}0.linear1.weight"
    if feed_forward_key not in state_dict:
        raise WeightConversionError(f"missing key in checkpoint: {feed_forward_key} (needed to infer the mapper's size)")
    mapper = {
        "input_dim": int(width),
        "hidden_dim": int(width),
        "mapped_length": int(mapped_width) // int(width),
        "num_layers": len(layers),
        "num_heads": MAPPER_HEADS,
        "intermediate_dim": int(state_dict[feed_forward_key].shape[0]),
    }
    widths = {"CLIP": image_encoder["hidden_dim"], "mapper": mapper["hidden_dim"], "GPT-2": decoder["hidden_dim"]}
    if len(set(widths.values())) != 1:
        raise WeightConversionError(
            f"The parts' widths differ ({', '.join(f'{name} {w}' for name, w in widths.items())}): upstream joins "
            "ViT-B/32 with gpt2 (768) or ViT-L/14 with gpt2-medium (1024); check the files given."
        )
    return {
        "image_encoder": image_encoder,
        "mapper": mapper,
        "decoder": decoder,
        "size": SIZES.get(int(width), f"custom ({width} wide)"),
    }


def fill_clip_gpt_mapper(table, mapper):
    for i, layer in enumerate(mapper.transformer_encoder_layers):
        key = f"{MAPPER_PREFIX}transformer_encoder.layers.{i}"
        table.multihead_attention(layer.self_attn, f"{key}.self_attn")
        table.dense(layer.linear1, f"{key}.linear1")
        table.dense(layer.linear2, f"{key}.linear2")
        table.layer_norm(layer.norm1, f"{key}.norm1")
        table.layer_norm(layer.norm2, f"{key}.norm2")
    table.dense(mapper.mapper, f"{MAPPER_PREFIX}mapper")
    # The prefix's first position: the checkpoint's own (fine-tuned) <|endoftext|> embedding.
    table.set(mapper.start_embedding, f"{GPT2_PREFIX}wte.weight", lambda wte: wte[START_TOKEN])


def double_positions(wpe):
    """Upstream adds `wpe` to GPT-2's inputs and GPT-2 adds it again (see the module docstring)."""
    return 2 * wpe


def convert_clip_gpt_captioning_state_dict(checkpoint, hf_clip=None, hf_gpt2=None):
    """Builds a `ClipCapModel` (pooled CLIP -> `ClipGPTMapper` -> GPT-2) from state dicts.

    Args:
        checkpoint: `{key: array}` of a clip-gpt-captioning checkpoint (`Net.state_dict()`).
        hf_clip, hf_gpt2: `{key: array}` of the Hugging Face CLIP / GPT-2 for parts the checkpoint lacks.

    Returns `(model, size)`, size "S" or "L" as read off the shapes.
    """
    state_dict = merge_hugging_face_parts(checkpoint, hf_clip, hf_gpt2)
    config = infer_clip_gpt_captioning_config(state_dict)
    image_encoder = CLIPVisionTransformer(**config["image_encoder"], name="image_encoder")
    mapper = ClipGPTMapper(**config["mapper"], name="mapper")
    decoder = GPT2Decoder(**config["decoder"], name="decoder")
    table = WeightTable(state_dict, ignored_keys=[*CLIP_BUFFERS, *gpt2_buffer_keys(state_dict, GPT2_PREFIX)])
    fill_hf_clip_vision(table, image_encoder, CLIP_PREFIX)
    fill_clip_gpt_mapper(table, mapper)
    fill_gpt2(table, decoder, GPT2_PREFIX, LM_HEAD_KEY, position_transform=double_positions)
    table.finish(image_encoder, mapper, decoder)
    return ClipCapModel(image_encoder, mapper, decoder, normalize_prefix=False), config["size"]


def convert_clip_gpt_captioning(checkpoint, clip_file=None, gpt2_file=None):
    """clip-gpt-captioning checkpoint file (+ Hugging Face files for parts it lacks) -> `(ClipCapModel, size)`.

    Example:
    ```python
    model, size = convert_clip_gpt_captioning("weights/small/model.pt")   # size == "S"
    ```
    """
    return convert_clip_gpt_captioning_state_dict(
        load_state_dict(checkpoint),
        None if clip_file is None else load_state_dict(clip_file),
        None if gpt2_file is None else load_state_dict(gpt2_file),
    )
