#!/usr/bin/env python3
"""A PyTorch trainer as a `cmd:` stage that feeds the built-in `aggregate` and `report`.

    train_torch:
      matrix: { exp: "configs/phase1/*.yaml", fold: [0, 1, 2, 3, 4] }
      cmd: python3 examples/pytorch/train.py --split outputs/splits.json --data data/raw
           --config ${exp.path} --fold ${fold} --out outputs/runs/${exp.name}_torch/fold${fold}
      deps: [examples/pytorch/train.py, outputs/splits.json, data/raw]
      params: ${exp}
      outs:
        - outputs/runs/${exp.name}_torch/fold${fold}

It writes the files described in docs/formats.md (metrics.json, oof.csv, history.json).
Needs python3-torch, python3-sklearn, python3-pil and python3-yaml (Debian packages).
"""
import argparse, json, os
import numpy as np
import torch
import torch.nn as nn
import yaml
from PIL import Image
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score)


def load_config(path):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    parent = cfg.pop("extends", None)
    if parent:
        base = load_config(os.path.join(os.path.dirname(path), parent))
        for k, v in cfg.items():
            base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
        return base
    return cfg


def metrics(y, p):
    pred = (np.asarray(p) >= 0.5).astype(int)
    return {"auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p), "accuracy": accuracy_score(y, pred),
            "f1": f1_score(y, pred, zero_division=0), "precision": precision_score(y, pred, zero_division=0),
            "recall": recall_score(y, pred, zero_division=0), "log_loss": log_loss(y, p, labels=[0, 1]), "n": len(y)}


def main():
    ap = argparse.ArgumentParser()
    for a in ("--split", "--data", "--config", "--out"):
        ap.add_argument(a, required=True)
    ap.add_argument("--fold", type=int, required=True)
    args = ap.parse_args()
    cfg = load_config(args.config)
    torch.manual_seed(cfg["seed"] + args.fold)
    split = json.load(open(args.split))
    size = cfg["data"]["size"]
    samples = split["samples"]
    train = [s for s in samples if s["fold"] != args.fold]
    val = [s for s in samples if s["fold"] == args.fold]
    load = lambda ss: torch.tensor(np.stack([np.asarray(Image.open(os.path.join(args.data, s["path"])).convert("RGB").resize((size, size))) / 255.0 for s in ss]), dtype=torch.float32).permute(0, 3, 1, 2)
    xt, xv = load(train), load(val)
    yt = torch.tensor([s["label"] for s in train], dtype=torch.float32)
    yv = [s["label"] for s in val]
    w = cfg["model"].get("width", 16)
    model = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU(),
                          nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["train"]["lr"], weight_decay=cfg["train"]["weight_decay"])
    epochs = cfg["train"]["epochs"]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    history, best = [], (-1, None, 0)
    for epoch in range(epochs):
        model.train()
        for i in torch.randperm(len(xt)).split(cfg["train"]["batch_size"]):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(xt[i]).squeeze(1), yt[i]).backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            pt = torch.sigmoid(model(xt).squeeze(1)).tolist()
            pv = torch.sigmoid(model(xv).squeeze(1)).tolist()
        history.append({"epoch": epoch + 1, "train_auc": roc_auc_score(yt.tolist(), pt), "val_auc": roc_auc_score(yv, pv)})
        if history[-1]["val_auc"] > best[0]:
            best = (history[-1]["val_auc"], {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    with torch.no_grad():
        pv = torch.sigmoid(model(xv).squeeze(1)).tolist()
        pt = torch.sigmoid(model(xt).squeeze(1)).tolist()
    per_source = {}
    for src in sorted({s["source"] for s in val if s["label"] == 1}):
        idx = [i for i, s in enumerate(val) if s["label"] == 0 or s["source"] == src]
        per_source[src] = roc_auc_score([yv[i] for i in idx], [pv[i] for i in idx])
    os.makedirs(args.out, exist_ok=True)
    json.dump({"fold": args.fold, "best_epoch": best[2], "epochs_run": epochs, "val": metrics(yv, pv),
               "train": metrics(yt.tolist(), pt), "per_source_auc": per_source, "backend": "pytorch"},
              open(os.path.join(args.out, "metrics.json"), "w"), indent=1)
    json.dump(history, open(os.path.join(args.out, "history.json"), "w"), indent=1)
    with open(os.path.join(args.out, "oof.csv"), "w") as f:
        f.write("id,label,source,prob\n")
        for s, p in zip(val, pv):
            f.write(f"{s['path']},{s['label']},{s['source']},{p:.8g}\n")


if __name__ == "__main__":
    main()
