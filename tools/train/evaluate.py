"""Measures an exported model: held-out losses, expert load, and greedy speculative-decoding
acceptance on held-out prompts, in Python (this directory's torch model on the exported,
BF16/FP8-rounded weights) and with nextn itself.

  /usr/bin/python3 tools/train/evaluate.py --model models/NAME [--nextn build/nextn] \
      [--prompts 20 --prompt-len 64 -n 64] [--json OUT.json]

Prompts: --prompts windows of --prompt-len tokens, evenly spaced over the held-out token stream
(held-out files, each [bos] + text + [eos], sorted order). Python acceptance simulates the greedy
speculative loop of SPEC §5/§6 on the greedy continuation: the first token comes from the
prompt's forward; each step drafts min(K, tokens left - 1) tokens with the MTP layer (draft 1
from (h_{m-1}, t_m); draft j+1 from the post-shared_head.norm output of draft j and token d_j,
over an MTP KV cache whose older rows are teacher-forced) and accepts the drafts equal to the
target's argmax.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import configs  # noqa: E402
import train  # noqa: E402
from check_reference import load_model  # noqa: E402


def prompts_of(cfg, tokenizer, n, length):
    ds = cfg["architectures"][0] == "DeepseekV3ForCausalLM"
    bos = cfg["bos_token_id"] if ds else configs.GLM_GMASK
    eos = cfg["eos_token_id"] if ds else configs.GLM_EOT
    _, held = train.token_streams(tokenizer, bos, eos)
    starts = np.linspace(0, len(held) - length - 1, n).astype(np.int64)
    return [held[s:s + length].tolist() for s in starts], held


@torch.no_grad()
def greedy(model, prompts, n):
    seq = torch.tensor(prompts)
    for _ in range(n):
        logits = model.lm_head(model.target(seq)[:, -1])
        seq = torch.cat([seq, logits.argmax(-1, keepdim=True)], 1)
    return seq


@torch.no_grad()
def simulate(model, seq, T0, n, K):
    """Greedy speculative loop over one greedy sequence seq [T0 + n] -> (drafts, draft tokens,
    accepted tokens)."""
    seq = seq[None]
    h = model.target(seq[:, :-1])                    # target hidden after model.norm, rows 0..
    drafts = dtoks = acc = 0
    m, generated = T0, 1                             # newest token t_m came from the prefill
    while generated < n:
        k = min(K, n - generated - 1)
        if k == 0:                                   # a plain step
            m, generated = m + 1, generated + 1
            continue
        # MTP inputs of rows 0..m-1 teacher-forced: (h_p, t_{p+1}); draft rows appended after.
        hid = h[:, :m]
        toks = seq[:, 1:m + 1]
        d = []
        for j in range(k):
            out = model.mtp_layer(0, hid, toks)
            tok = model.lm_head(out[:, -1]).argmax(-1)
            d.append(int(tok))
            hid = torch.cat([hid, out[:, -1:]], 1)   # recycled post-norm hidden
            toks = torch.cat([toks, tok[:, None]], 1)
        a = 0
        while a < k and d[a] == int(seq[0, m + 1 + a]):
            a += 1
        drafts, dtoks, acc = drafts + 1, dtoks + k, acc + a
        m, generated = m + a + 1, generated + a + 1
    return drafts, dtoks, acc


def nextn_run(nextn, model_dir, prompt, n, K):
    out = subprocess.run([nextn, "generate", "--model", model_dir, "--prompt-tokens",
                          ",".join(map(str, prompt)), "-n", str(n), "--temperature", "0",
                          "--spec-tokens", str(K), "--ignore-eos", "--json", "--threads", "1"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def summarize(rows):
    d = sum(r[0] for r in rows)
    t = sum(r[1] for r in rows)
    a = sum(r[2] for r in rows)
    return {"drafts": d, "draft_tokens": t, "accepted_tokens": a,
            "acceptance_rate": a / max(t, 1), "mean_acceptance_length": 1 + a / max(d, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--nextn", default=None)
    ap.add_argument("--prompts", type=int, default=20)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--ks", default="1,3")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-python", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    tok = os.path.join(args.model, "tokenizer.json")
    prompts, held = prompts_of(model.c, tok, args.prompts, args.prompt_len)
    ds = model.c["architectures"][0] == "DeepseekV3ForCausalLM"
    train_ids, _ = train.token_streams(tok, model.c["bos_token_id"] if ds else configs.GLM_GMASK,
                                       model.c["eos_token_id"] if ds else configs.GLM_EOT)
    report = {"model": args.model, "prompts": args.prompts, "prompt_len": args.prompt_len,
              "n": args.n}
    # held-out losses of the exported weights, and the expert load on held-out text
    windows = train.heldout_windows(held, 128, 64)
    hm, ht = train.evaluate(model, windows)
    loads = [torch.zeros(m.E) for m in model.moe_modules()]
    with torch.no_grad():
        for i in range(0, len(windows), 16):
            model(windows[i:i + 16, :-1])
            for l, m in zip(loads, model.moe_modules()):
                l += m.last_load.float()
    report["held_out_main_loss"], report["held_out_mtp_loss"] = hm, ht
    report["train_main_loss"], report["train_mtp_loss"] = train.evaluate(
        model, train.heldout_windows(train_ids, 128, 64))
    print("train-split loss (64 windows) main %.4f mtp %.4f"
          % (report["train_main_loss"], report["train_mtp_loss"]))
    report["expert_load_share"] = [[round(x, 3) for x in (l / l.sum()).tolist()] for l in loads]
    print("held-out loss main %.4f mtp %.4f" % (hm, ht))
    for i, l in enumerate(report["expert_load_share"]):
        print("MoE layer %d load share %s (max/mean %.2f)" % (i, l, max(l) * len(l)))
    ks = [int(k) for k in args.ks.split(",") if k]
    if not args.no_python:
        seqs = greedy(model, prompts, args.n)
        report["python_greedy"] = seqs[:, args.prompt_len:].tolist()
        for K in ks:
            rows = [simulate(model, seqs[i], args.prompt_len, args.n, K)
                    for i in range(len(prompts))]
            s = summarize(rows)
            report["python_K%d" % K] = s
            print("python K=%d: acceptance rate %.3f, mean acceptance length %.3f (%d drafts)"
                  % (K, s["acceptance_rate"], s["mean_acceptance_length"], s["drafts"]))
    if args.nextn:
        for K in ks:
            rows, same = [], 0
            for i, p in enumerate(prompts):
                r = nextn_run(args.nextn, args.model, p, args.n, K)
                st = r["stats"]
                rows.append((st["drafts"], st["draft_tokens"], st["accepted_tokens"]))
                if "python_greedy" in report and r["tokens"] == report["python_greedy"][i]:
                    same += 1
            s = summarize(rows)
            s["prompts_with_python_identical_tokens"] = same
            report["nextn_K%d" % K] = s
            print("nextn  K=%d: acceptance rate %.3f, mean acceptance length %.3f (%d drafts); "
                  "greedy tokens equal to Python's on %d/%d prompts"
                  % (K, s["acceptance_rate"], s["mean_acceptance_length"], s["drafts"], same,
                     len(prompts)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
