"""Exports a train.py checkpoint as a HuggingFace model directory in the format of the real
releases: config.json, model.safetensors (BF16; router bias F32; or, with --fp8, DeepSeek FP8
block weights F8_E4M3 + F32 weight_scale_inv), generation_config.json, tokenizer.json,
tokenizer_config.json.

  /usr/bin/python3 tools/train/export.py --ckpt RUN/ckpt.pt --tokenizer TOKENIZER.json \
      --out models/NAME [--fp8]
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import configs  # noqa: E402
import hf_io  # noqa: E402
from model import Model  # noqa: E402

DS_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}"
    "{% elif m['role'] == 'assistant' %}{{ '<｜Assistant｜>' + m['content'] + "
    "'<｜end▁of▁sentence｜>' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}")

GLM_TEMPLATE = (
    "[gMASK]<sop>{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ '<|system|>\\n' + m['content'] }}"
    "{% elif m['role'] == 'user' %}{{ '<|user|>\\n' + m['content'] }}"
    "{% elif m['role'] == 'assistant' %}{{ '<|assistant|>\\n' + m['content'] }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}")

# Stay BF16 in DeepSeek FP8 releases (SPEC §2); the router bias is F32 everywhere.
_PLAIN = ("embed_tokens.weight", "lm_head.weight", "shared_head.head.weight", "norm.weight",
          "layernorm.weight", "enorm.weight", "hnorm.weight", "eh_proj.weight", "mlp.gate.weight")


def is_fp8(name):
    return name.endswith(".weight") and not name.endswith(_PLAIN)


def tokenizer_config(family):
    s = bpe.SPECIALS
    if family == "deepseek":
        return {"add_bos_token": True, "add_eos_token": False, "bos_token": s[0],
                "eos_token": s[1], "pad_token": s[1], "unk_token": None,
                "clean_up_tokenization_spaces": False, "legacy": True,
                "model_max_length": 4096, "tokenizer_class": "LlamaTokenizerFast",
                "chat_template": DS_TEMPLATE}
    return {"add_bos_token": False, "add_eos_token": False, "eos_token": "<|endoftext|>",
            "pad_token": "<|endoftext|>", "clean_up_tokenization_spaces": False,
            "do_lower_case": False, "model_max_length": 4096,
            "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": GLM_TEMPLATE}


def generation_config(cfg, family):
    if family == "deepseek":
        return {"_from_model_config": True, "bos_token_id": cfg["bos_token_id"],
                "eos_token_id": cfg["eos_token_id"], "do_sample": True, "temperature": 0.6,
                "top_p": 0.95, "transformers_version": "4.46.3"}
    return {"_from_model_config": True, "eos_token_id": cfg["eos_token_id"],
            "pad_token_id": cfg["pad_token_id"], "do_sample": True, "temperature": 0.6,
            "top_p": 0.95, "transformers_version": "4.54.0"}


def export(model, out, tokenizer_path, fp8=False):
    cfg = dict(model.c)
    family = "deepseek" if model.ds else "glm"
    if fp8:
        assert family == "deepseek", "FP8 export: DeepSeek block format only"
        cfg["quantization_config"] = dict(configs.FP8_QUANTIZATION)
    os.makedirs(out, exist_ok=True)
    rows = []
    for name, t in hf_io.hf_tensors(model):
        if name.endswith("e_score_correction_bias"):
            rows.append((name, "F32", list(t.shape), t.float().numpy().astype("<f4").tobytes()))
        elif fp8 and is_fp8(name):
            codes, scales = hf_io.quantize_block(t.float(), cfg["quantization_config"]
                                                 ["weight_block_size"])
            rows.append((name, "F8_E4M3", list(t.shape), codes.tobytes()))
            rows.append((name + "_scale_inv", "F32", list(scales.shape),
                         scales.astype("<f4").tobytes()))
        else:
            rows.append((name, "BF16", list(t.shape), hf_io.bf16_bytes(t)))
    hf_io.write_safetensors(os.path.join(out, "model.safetensors"), rows)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(generation_config(cfg, family), f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(family), f, indent=2, ensure_ascii=False)
        f.write("\n")
    shutil.copyfile(tokenizer_path, os.path.join(out, "tokenizer.json"))
    return sum(len(r[3]) for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fp8", action="store_true")
    args = ap.parse_args()
    ck = torch.load(args.ckpt)
    model = Model(ck["config"])
    model.load_state_dict(ck["state"])
    n = export(model, args.out, args.tokenizer, args.fp8)
    print("wrote %s (%d tensor bytes)" % (args.out, n))


if __name__ == "__main__":
    main()
