"""The official ClipCap decoding algorithms (`generate2`, `generate_beam` of
rmokady/CLIP_prefix_caption), re-written in PyTorch from their published description: batch 1,
no key/value cache (GPT-2 re-runs over the whole sequence at every step), stop token kept.

They return token ids instead of text (text is the caller's `tokenizer.decode(ids)`), and can
record a per-step trace used to explain disagreements by near-ties.
"""

import torch
import torch.nn.functional as F


@torch.no_grad()
def official_generate2(gpt, embed, entry_length=67, top_p=0.8, temperature=1.0, stop_token_index=13, trace=None):
    """Official greedy decoding of one prefix.

    Args:
        gpt: a Hugging Face `GPT2LMHeadModel` (the official `model.gpt`).
        embed: (1, prefix_length, dim) prefix embeddings.
        stop_token_index: id ending the caption ("." is 13); None never stops.
        trace: optional list; gets, per step, the log-probabilities' top-2 values and ids.

    Returns the generated token ids, stop token included.
    """
    generated = embed
    tokens = None
    filter_value = -float("inf")
    for _ in range(entry_length):
        logits = gpt(inputs_embeds=generated).logits
        logits = logits[:, -1, :] / (temperature if temperature > 0 else 1.0)
        if trace is not None:
            top = torch.log_softmax(logits, -1).topk(2, -1)
            trace.append({"values": top.values[0].tolist(), "ids": top.indices[0].tolist()})
        # The official top-p mask, then argmax (the mask never removes the argmax).
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative_probs = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_indices_to_remove = cumulative_probs > top_p
        sorted_indices_to_remove[..., 1:] = sorted_indices_to_remove[..., :-1].clone()
        sorted_indices_to_remove[..., 0] = 0
        indices_to_remove = sorted_indices[sorted_indices_to_remove]
        logits[:, indices_to_remove] = filter_value
        next_token = torch.argmax(logits, -1).unsqueeze(0)
        next_token_embed = gpt.transformer.wte(next_token)
        tokens = next_token if tokens is None else torch.cat((tokens, next_token), dim=1)
        generated = torch.cat((generated, next_token_embed), dim=1)
        if stop_token_index is not None and stop_token_index == next_token.item():
            break
    return tokens.squeeze(0).tolist()


@torch.no_grad()
def official_generate_beam(gpt, embed, beam_size=5, entry_length=67, temperature=1.0, stop_token_index=13, trace=None):
    """Official beam search of one prefix.

    Args: as `official_generate2`, plus `beam_size`; `trace`: optional list that gets, per step,
    the sorted candidate averages (top beam_size + 1) and the selected (source beam, token) pairs.

    Returns [(token_ids, score)] for every beam, best first; score = sum of log-probabilities /
    sequence length, token_ids truncated to the sequence length (stop token included).
    """
    tokens = None
    scores = None
    seq_lengths = torch.ones(beam_size)
    is_stopped = torch.zeros(beam_size, dtype=torch.bool)
    generated = embed
    for _ in range(entry_length):
        logits = gpt(inputs_embeds=generated).logits
        logits = logits[:, -1, :] / (temperature if temperature > 0 else 1.0)
        logits = logits.softmax(-1).log()
        if scores is None:
            scores, next_tokens = logits.topk(beam_size, -1)
            if trace is not None:
                top = logits.topk(beam_size + 1, -1)
                trace.append({"averages": top.values[0].tolist(), "sources": [0] * beam_size, "tokens": next_tokens[0].tolist()})
            generated = generated.expand(beam_size, *generated.shape[1:])
            next_tokens, scores = next_tokens.permute(1, 0), scores.squeeze(0)
            tokens = next_tokens
        else:
            logits[is_stopped] = -float("inf")
            logits[is_stopped, 0] = 0
            scores_sum = scores[:, None] + logits
            seq_lengths[~is_stopped] += 1
            scores_sum_average = scores_sum / seq_lengths[:, None]
            if trace is not None:
                top = scores_sum_average.view(-1).topk(beam_size + 1, -1)
            scores_sum_average, next_tokens = scores_sum_average.view(-1).topk(beam_size, -1)
            next_tokens_source = torch.div(next_tokens, scores_sum.shape[1], rounding_mode="floor")
            seq_lengths = seq_lengths[next_tokens_source]
            next_tokens = next_tokens % scores_sum.shape[1]
            if trace is not None:
                trace.append({"averages": top.values.tolist(), "sources": next_tokens_source.tolist(), "tokens": next_tokens.tolist()})
            next_tokens = next_tokens.unsqueeze(1)
            tokens = tokens[next_tokens_source]
            tokens = torch.cat((tokens, next_tokens), dim=1)
            generated = generated[next_tokens_source]
            scores = scores_sum_average * seq_lengths
            is_stopped = is_stopped[next_tokens_source]
        next_token_embed = gpt.transformer.wte(next_tokens.squeeze(1)).view(generated.shape[0], 1, -1)
        generated = torch.cat((generated, next_token_embed), dim=1)
        if stop_token_index is not None:
            is_stopped = is_stopped | next_tokens.eq(stop_token_index).view(-1)
        if is_stopped.all():
            break
    scores = scores / seq_lengths
    order = scores.argsort(descending=True)
    return [(tokens[i, : int(seq_lengths[i])].tolist(), float(scores[i])) for i in order]
