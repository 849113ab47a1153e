"""Trains a small DeepSeek-V3- or GLM-4.5-shaped model jointly with its MTP layer (DeepSeek-V3
report §2.2): loss = CE(main head, t_{p+1}) + λ · CE(MTP head, t_{p+2}), on the Python standard
library corpus (corpus.py), tokenized with the tokenizer.json that bpe.py trained.

  /usr/bin/python3 tools/train/train.py --family deepseek --tokenizer DIR/tokenizer.json \
      --out /tmp/run-ds [--steps N --batch B --seq T --lr LR --threads 2 --seed 0]

Deterministic: the same arguments (and thread count) give the same weights. Router balance:
after each optimizer step every MoE layer's e_score_correction_bias moves by
γ · sign(mean load − load_e) (the report's auxiliary-loss-free rule).
Writes OUT/ckpt.pt (state dict, config, log) and OUT/log.txt.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import configs  # noqa: E402
import corpus  # noqa: E402
from model import Model  # noqa: E402


def token_streams(tokenizer_path, bos, eos):
    """(train ids, held-out ids): every file as [bos] + ids + [eos], files in sorted order."""
    tok = bpe.Tokenizer.load(tokenizer_path)
    out = []
    for paths in corpus.split():
        ids = []
        for p in paths:
            ids += [bos] + tok.encode(corpus.read(p)) + [eos]
        out.append(np.array(ids, dtype=np.int64))
    return out


def heldout_windows(stream, T, n):
    """n non-overlapping windows of T + 1 tokens spread evenly over the held-out stream."""
    starts = np.linspace(0, len(stream) - T - 2, n).astype(np.int64)
    return torch.from_numpy(np.stack([stream[s:s + T + 1] for s in starts]))


def losses(model, batch):
    logits, mtp = model(batch[:, :-1])
    main = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
    mtp_losses = []
    for k, lg in enumerate(mtp):
        tgt = batch[:, 2 + k:2 + k + lg.shape[1]]
        mtp_losses.append(F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt.reshape(-1)))
    return main, mtp_losses


@torch.no_grad()
def evaluate(model, windows, bs=16):
    model.eval()
    m, t, n = 0.0, 0.0, 0
    for i in range(0, len(windows), bs):
        b = windows[i:i + bs]
        main, mtp = losses(model, b)
        m += main.item() * len(b)
        t += mtp[0].item() * len(b)
        n += len(b)
    model.train()
    return m / n, t / n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=sorted(configs.FAMILIES), required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--mtp-weight", type=float, default=0.3, help="λ")
    ap.add_argument("--bias-rate", type=float, default=1e-3, help="γ")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=64)
    ap.add_argument("--stop-after", type=int, default=None,
                    help="end after this many steps (the schedule still spans --steps)")
    ap.add_argument("--config", default="{}", help="JSON overrides of the config (smoke tests)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = configs.get(args.family, **json.loads(args.config))
    bos = cfg["bos_token_id"] if args.family == "deepseek" else configs.GLM_GMASK
    eos = cfg["eos_token_id"] if args.family == "deepseek" else configs.GLM_EOT
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, "log.txt"), "a")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    t0 = time.time()
    train_ids, held_ids = token_streams(args.tokenizer, bos, eos)
    log("args %s" % json.dumps(vars(args)))
    log("train tokens %d, held-out tokens %d (tokenized in %.0fs)"
        % (len(train_ids), len(held_ids), time.time() - t0))
    held = heldout_windows(held_ids, args.seq, args.eval_windows)

    model = Model(cfg)
    model.init_weights(cfg["initializer_range"])
    n_params = sum(p.numel() for p in model.parameters())
    log("parameters %d (MTP layer %d)" % (n_params, sum(p.numel() for p in model.mtp.parameters())))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        f = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * f)))

    rng = np.random.RandomState(args.seed)
    moes = model.moe_modules()
    load_sum = [torch.zeros(m.E) for m in moes]
    t_start = time.time()
    history = []
    last = args.steps if args.stop_after is None else min(args.steps, args.stop_after)
    for step in range(last):
        starts = rng.randint(0, len(train_ids) - args.seq - 1, size=args.batch)
        batch = torch.from_numpy(np.stack([train_ids[s:s + args.seq + 1] for s in starts]))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        main_loss, mtp_losses = losses(model, batch)
        loss = main_loss + args.mtp_weight * sum(mtp_losses)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():                                 # auxiliary-loss-free balance
            for i, m in enumerate(moes):
                load = m.last_load.float()
                load_sum[i] += load
                m.e_score_correction_bias += args.bias_rate * torch.sign(load.mean() - load)
        if step % 25 == 0 or step == last - 1:
            el = time.time() - t_start
            log("step %5d lr %.2e loss %.4f main %.4f mtp %.4f gnorm %.2f  %.1f tok/s  %.0fs"
                % (step, lr_at(step), loss.item(), main_loss.item(), mtp_losses[0].item(),
                   gnorm.item(), (step + 1) * args.batch * args.seq / el, el))
        if (step + 1) % args.eval_every == 0 or step == last - 1:
            hm, ht = evaluate(model, held)
            history.append({"step": step + 1, "train_main": main_loss.item(),
                            "train_mtp": mtp_losses[0].item(), "held_main": hm, "held_mtp": ht})
            log("eval step %d held-out main %.4f mtp %.4f" % (step + 1, hm, ht))
            torch.save({"config": cfg, "state": model.state_dict(), "history": history,
                        "args": vars(args), "step": step + 1},
                       os.path.join(args.out, "ckpt.pt"))
    for i, (m, ls) in enumerate(zip(moes, load_sum)):
        frac = (ls / ls.sum()).tolist()
        log("moe %d load share %s  max/mean %.2f  bias %s"
            % (i, " ".join("%.3f" % f for f in frac), max(frac) * m.E,
               " ".join("%+.3f" % b for b in m.e_score_correction_bias.tolist())))
    log("done in %.0fs" % (time.time() - t0))


if __name__ == "__main__":
    main()
