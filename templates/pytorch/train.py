#!/usr/bin/env python3
"""A PyTorch trainer for one experiment x fold, written by `pipeline init --trainer pytorch`.

pipeline runs it as `uses: train` with `with: { runner: python, script: train.py }`: the fold's
images, params and task arrive through `pipeline_train.open_run()` (docs/trainer-protocol.md),
and `run.finish(...)` writes the run folder that `aggregate` and `report` read. It is yours to
edit: editing it retrains every fold that uses it; editing one config retrains only its folds.

The experiment's config (configs/pytorch/*.yaml, extending configs/pytorch/shared.yaml):
  model: { arch: resnet18 }                       # any torchvision.models builder
  model: { arch: resnet18, weights: weights/resnet18-f37072fd.pth }
         # pretrained: torchvision's cache file (~/.cache/torch/hub/checkpoints/) or timm's
         # (model.safetensors / pytorch_model.bin) where its layout is torchvision's (resnet*);
         # model: { library: timm, arch: ... } builds the model with timm when it is installed
  data: { size: 64 }                              # input edge in pixels (224 for pretrained)
  train: { epochs, batch_size, lr, weight_decay, patience, augment, freeze: none | backbone,
           loss: mse | huber (regression), workers }
Runs on the GPU that pipeline assigns (CUDA_VISIBLE_DEVICES, from --gpus or Slurm) with mixed
precision, else on the CPU; seeded, and deterministic where PyTorch's kernels are.
"""
import copy
import json
import math
import os
import random
import struct

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

import torch
import torchvision
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

import pipeline_train

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class FoldImages(Dataset):
    """The fold's images, each read from its file when a batch needs it: memory stays flat in the number of images."""

    def __init__(self, samples, size, augment, target_scale=None):
        self.samples, self.size, self.augment, self.target_scale = samples, size, augment, target_scale
        steps = [torchvision.transforms.RandomHorizontalFlip(), torchvision.transforms.RandomAffine(0, translate=(0.05, 0.05))] if augment else []
        self.transform = torchvision.transforms.Compose(steps + [torchvision.transforms.ToTensor(), torchvision.transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        s = self.samples[i]
        with Image.open(s.file) as img:
            img = img.convert("RGB")
            if s.fit == "letterbox":  # pad to square first: the matched-geometry probe
                edge = max(img.size)
                square = Image.new("RGB", (edge, edge))
                square.paste(img, ((edge - img.width) // 2, (edge - img.height) // 2))
                img = square
            x = self.transform(img.resize((self.size, self.size), Image.BICUBIC))
        y = float(s.label) if self.target_scale is None else (float(s.label) - self.target_scale[0]) / self.target_scale[1]
        return x, torch.tensor(y)


def read_safetensors(path):
    """A .safetensors file's tensors (8-byte header length, JSON header, raw little-endian data), without the safetensors package."""
    dtypes = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        data = f.read()
    out = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        out[key] = torch.frombuffer(bytearray(data[start:end]), dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).clone()
    return out


def load_weights(path):
    """A state_dict from a torchvision/timm cache file; a .pth's pickle is read with weights_only=True, never run."""
    state = read_safetensors(path) if path.endswith(".safetensors") else torch.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    return state


def replace_head(model, outputs):
    """The last Linear layer becomes the task's head (torchvision's fc / classifier[-1]); returns it."""
    name, last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    head = nn.Linear(last.in_features, outputs)
    setattr(parent, name.rsplit(".", 1)[-1], head)
    return head


def build_model(cfg, outputs):
    arch, weights = cfg.get("arch", "resnet18"), cfg.get("weights")
    if cfg.get("library", "torchvision") == "timm":
        import timm  # only when the config asks for it

        model = timm.create_model(arch, pretrained=False)
    else:
        if not hasattr(torchvision.models, arch):
            raise SystemExit(f"model.arch: {arch} is not a torchvision model (e.g. resnet18, mobilenet_v3_small, efficientnet_b0, convnext_tiny)")
        model = getattr(torchvision.models, arch)(weights=None)
    if weights:
        missing, unexpected = model.load_state_dict(load_weights(weights), strict=False)
        if missing or unexpected:
            raise SystemExit(f"model.weights: {weights} does not fit {arch}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model, replace_head(model, outputs)


def main():
    run = pipeline_train.open_run()
    cfg_model, cfg_data, cfg_train = run.params.get("model", {}), run.params.get("data", {}), run.params.get("train", {})
    seed = int(run.params.get("seed", 0)) * 1000 + run.fold
    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"

    labels = [s.label for s in run.train]
    scale = None
    if run.task == "regression":
        mean = sum(labels) / len(labels)
        scale = (mean, math.sqrt(sum((y - mean) ** 2 for y in labels) / len(labels)) or 1.0)
    size = int(cfg_data.get("size", 224 if cfg_model.get("weights") else 64))
    epochs, patience = int(cfg_train.get("epochs", 8)), int(cfg_train.get("patience", 3))
    batch = int(cfg_train.get("batch_size", 32))
    workers = int(cfg_train.get("workers", min(4, os.cpu_count() or 1)))
    loader = lambda samples, augment, shuffle: DataLoader(
        FoldImages(samples, size, augment, scale), batch_size=batch, shuffle=shuffle, num_workers=workers,
        persistent_workers=workers > 0, generator=torch.Generator().manual_seed(seed), pin_memory=amp)
    train_loader = loader(run.train, bool(cfg_train.get("augment", False)), True)
    train_eval, val_eval = loader(run.train, False, False), loader(run.val, False, False)

    model, head = build_model(cfg_model, run.outputs)
    if cfg_train.get("freeze", "none") == "backbone":
        for p in model.parameters():
            p.requires_grad = False
        for p in head.parameters():
            p.requires_grad = True
    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=float(cfg_train.get("lr", 1e-3)), weight_decay=float(cfg_train.get("weight_decay", 1e-4)))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=float(cfg_train.get("lr", 1e-3)), total_steps=epochs * len(train_loader))
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    if run.task == "binary":
        criterion = nn.BCEWithLogitsLoss()
    elif run.task == "multiclass":
        criterion = nn.CrossEntropyLoss()
    else:
        criterion = nn.HuberLoss() if cfg_train.get("loss") == "huber" else nn.MSELoss()

    def loss_of(out, y):
        if run.task == "multiclass":
            return criterion(out, y.long())
        return criterion(out.squeeze(1), y.float())

    def predict(data):
        """Predictions in the helper's units (P(positive), class probabilities, the target) and the mean loss."""
        model.eval()
        rows, total = [], 0.0
        with torch.no_grad(), torch.autocast(device.type, enabled=amp):
            for x, y in data:
                out = model(x.to(device, non_blocking=True)).float()
                total += loss_of(out, y.to(device)).item() * len(y)
                if run.task == "binary":
                    rows += torch.sigmoid(out.squeeze(1)).tolist()
                elif run.task == "multiclass":
                    rows += torch.softmax(out, 1).tolist()
                else:
                    rows += (out.squeeze(1) * scale[1] + scale[0]).tolist()
        return rows, total / max(1, len(data.dataset))

    steps, step = epochs * len(train_loader), 0
    best, best_state, waited, epochs_run = None, None, 0, 0
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, enabled=amp):
                loss = loss_of(model(x).float(), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            schedule.step()
            total += loss.item() * len(y)
            step += 1
            if step % 10 == 0:
                run.progress(step=f"{step}/{steps}", fold=run.fold, epoch=f"{epoch}/{epochs}")
        val_rows, val_loss = predict(val_eval)
        epochs_run = epoch
        score = run.epoch(epoch, lr=schedule.get_last_lr()[0], train_loss=total / len(run.train), val_loss=val_loss, val_predictions=val_rows, epochs=epochs)
        better = best is None or (score < best[0] if run.task == "regression" else score > best[0])
        if better:
            best, best_state, waited = (score, epoch), copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break

    model.load_state_dict(best_state)
    train_rows, _ = predict(train_eval)
    val_rows, _ = predict(val_eval)
    torch.save(model.state_dict(), os.path.join(run.run_dir, "model.pt"))
    name = torch.cuda.get_device_name(device) if amp else "CPU"
    run.finish(train_rows, val_rows, best_epoch=best[1], epochs_run=epochs_run, backend=f"pytorch-{device.type}",
               backend_detail=f"torch {torch.__version__}, torchvision {torchvision.__version__}, {name}{', AMP' if amp else ''}, {cfg_model.get('arch', 'resnet18')}{' pretrained' if cfg_model.get('weights') else ''}",
               parameters=sum(p.numel() for p in trainable), images_seen=len(run.train) * epochs_run)


if __name__ == "__main__":
    main()
