"""pipeline's trainer protocol for Python scripts (stdlib only; docs/trainer-protocol.md).

A `uses: train` stage with `with: { runner: python, script: train.py }` runs your script with
this module on its PYTHONPATH. The script is its model and its loop plus a few calls:

    import pipeline_train
    run = pipeline_train.open_run()          # the fold: run.params, run.task, run.train, run.val
    for epoch in range(1, epochs + 1):
        ...                                  # train on run.train, predict run.val
        run.epoch(epoch, lr=lr, train_loss=tl, val_loss=vl, val_predictions=pv)
    run.finish(train_predictions, val_predictions, best_epoch=3, backend="pytorch-cuda")

`finish` writes oof.csv, train_predictions.csv, history.json and metrics.json with the
built-in's metrics (as scikit-learn defines them) and its threshold rule (Youden's J on the
training predictions, applied to the validation images); the stage checks them on exit.
Predictions: binary, P(positive) per image; multi-class, one probability per class;
regression, the predicted value.
"""

import csv
import json
import math
import os
import sys
from collections import namedtuple

PROTOCOL = 1
EPS = 2.220446049250313e-16
MAPE_GUARD = 0.01

Sample = namedtuple("Sample", "id file label source group fit")


# ---------------------------------------------------------------- metrics (as stages/metrics/*.ts)

def roc_auc(labels, scores):
    """Mann-Whitney U with average ranks for ties (= sklearn's roc_auc_score); NaN without both classes."""
    n = len(labels)
    order = sorted(range(n), key=lambda i: scores[i])
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for y in labels if y == 1)
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = sum(r for r, y in zip(ranks, labels) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _descending(scores):
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def average_precision(labels, scores):
    positives = sum(1 for y in labels if y == 1)
    if positives == 0:
        return float("nan")
    order = _descending(scores)
    tp = fp = 0
    ap = last_recall = 0.0
    for k, i in enumerate(order):
        if labels[i] == 1:
            tp += 1
        else:
            fp += 1
        if k < len(order) - 1 and scores[order[k + 1]] == scores[i]:
            continue
        recall = tp / positives
        ap += (recall - last_recall) * (tp / (tp + fp))
        last_recall = recall
    return ap


def log_loss(labels, scores):
    total = 0.0
    for y, p in zip(labels, scores):
        p = min(1 - EPS, max(EPS, p))
        total += -math.log(p) if y == 1 else -math.log(1 - p)
    return total / len(labels)


def youden_threshold(labels, scores):
    """The score maximising TPR - FPR (sklearn's roc_curve thresholds; the highest on ties); 0.5 without both classes."""
    positives = sum(1 for y in labels if y == 1)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    order = _descending(scores)
    tp = fp = 0
    best_j, best = -math.inf, 0.5
    for k, i in enumerate(order):
        if labels[i] == 1:
            tp += 1
        else:
            fp += 1
        if k < len(order) - 1 and scores[order[k + 1]] == scores[i]:
            continue
        j = tp / positives - fp / negatives
        if j > best_j:
            best_j, best = j, scores[i]
    return best


def binary_metrics(labels, scores, threshold=0.5):
    tp = fp = tn = fn = 0
    for y, p in zip(labels, scores):
        call = 1 if p >= threshold else 0
        if call == 1 and y == 1:
            tp += 1
        elif call == 1:
            fp += 1
        elif y == 1:
            fn += 1
        else:
            tn += 1
    precision = 0 if tp + fp == 0 else tp / (tp + fp)
    recall = 0 if tp + fn == 0 else tp / (tp + fn)
    specificity = 0 if tn + fp == 0 else tn / (tn + fp)
    present = len([c for c in (tp + fn, tn + fp) if c > 0])
    return {
        "auc": roc_auc(labels, scores),
        "pr_auc": average_precision(labels, scores),
        "accuracy": (tp + tn) / len(labels),
        "balanced_accuracy": 0 if present == 0 else (recall + specificity) / present,
        "f1": 0 if precision + recall == 0 else 2 * precision * recall / (precision + recall),
        "precision": precision,
        "recall": recall,
        "log_loss": log_loss(labels, scores),
        "threshold": threshold,
        "n": len(labels),
    }


def argmax(row):
    best = 0
    for k, v in enumerate(row):
        if v > row[best]:
            best = k
    return best


def multiclass_metrics(labels, probs, classes):
    preds = [argmax(r) for r in probs]
    confusion = [[0] * classes for _ in range(classes)]
    for y, p in zip(labels, preds):
        confusion[y][p] += 1
    support = [sum(row) for row in confusion]
    predicted = [sum(row[k] for row in confusion) for k in range(classes)]
    precision = [0 if predicted[k] == 0 else confusion[k][k] / predicted[k] for k in range(classes)]
    recall = [0 if support[k] == 0 else confusion[k][k] / support[k] for k in range(classes)]
    f1 = [0 if precision[k] + recall[k] == 0 else 2 * precision[k] * recall[k] / (precision[k] + recall[k]) for k in range(classes)]
    present = [k for k in range(classes) if support[k] > 0]
    seen = [k for k in range(classes) if support[k] > 0 or predicted[k] > 0]
    n = len(labels)
    loss = 0.0
    for y, row in zip(labels, probs):
        clipped = [min(1 - EPS, max(EPS, p)) for p in row]
        loss -= math.log(clipped[y] / sum(clipped))
    auc = (sum(roc_auc([1 if y == k else 0 for y in labels], [r[k] for r in probs]) for k in present) / classes
           if len(present) == classes else float("nan"))
    return {
        "accuracy": sum(1 for y, p in zip(labels, preds) if y == p) / n,
        "balanced_accuracy": sum(recall[k] for k in present) / len(present),
        "f1_macro": sum(f1[k] for k in seen) / len(seen),
        "f1_weighted": sum(support[k] * f1[k] for k in range(classes)) / n,
        "auc_ovr_macro": auc,
        "log_loss": loss / n,
        "precision": precision,
        "recall": recall,
        "confusion": confusion,
        "n": n,
    }


def _mape_guarded(targets, predictions):
    if any(y < 0 for y in targets) and any(y > 0 for y in targets):
        return None
    magnitudes = sorted(abs(y) for y in targets)
    median = magnitudes[(len(magnitudes) - 1) // 2]
    if magnitudes[0] == 0 or magnitudes[0] < MAPE_GUARD * median:
        return None
    return sum(abs(p - y) / max(abs(y), EPS) for y, p in zip(targets, predictions)) / len(targets)


def regression_metrics(targets, predictions):
    n = len(targets)
    errors = [p - y for y, p in zip(targets, predictions)]
    mae = sum(abs(e) for e in errors) / n
    mse = sum(e * e for e in errors) / n
    mean = sum(targets) / n
    ss_tot = sum((y - mean) ** 2 for y in targets)
    ss_res = sum(e * e for e in errors)
    r2 = (1 if ss_res == 0 else 0) if ss_tot == 0 else 1 - ss_res / ss_tot
    return {"mae": mae, "mse": mse, "rmse": math.sqrt(mse), "r2": r2, "mape": _mape_guarded(targets, predictions), "n": n}


def _quantile(sorted_values, q):
    position = (len(sorted_values) - 1) * q
    below = math.floor(position)
    above = min(len(sorted_values) - 1, below + 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)


def regression_by_bin(targets, predictions, bins=4):
    """The metrics per quartile of the target (pandas.qcut's edges, right-inclusive)."""
    ordered = sorted(targets)
    edges = [_quantile(ordered, (i + 1) / bins) for i in range(bins - 1)]
    edges = [e for i, e in enumerate(edges) if i == 0 or e != edges[i - 1]]
    edges = [e for e in edges if ordered[0] < e < ordered[-1]]
    at = []
    for v in targets:
        b = 0
        while b < len(edges) and v > edges[b]:
            b += 1
        at.append(b)
    out = []
    for b in range(len(edges) + 1):
        idx = [i for i, v in enumerate(at) if v == b]
        if idx:
            out.append({"bin": b, "lo": None if b == 0 else edges[b - 1], "hi": None if b == len(edges) else edges[b],
                        "metrics": regression_metrics([targets[i] for i in idx], [predictions[i] for i in idx])})
    return out


def _finite(value):
    """JSON has no NaN: undefined metrics are null, as the built-in writes them."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# ---------------------------------------------------------------- the run

class Run:
    """One experiment x fold, as the stage's spec describes it."""

    def __init__(self, spec):
        if spec.get("protocol") != PROTOCOL:
            raise SystemExit(f"pipeline_train: trainer spec protocol {spec.get('protocol')}, this helper reads {PROTOCOL}; "
                             "the helper and pipeline come from different versions")
        self.spec = spec
        self.id = spec["id"]
        self.fold = spec["fold"]
        self.task = spec["task"]
        self.classes = spec["classes"]
        self.params = spec["params"]
        self.run_dir = spec["run_dir"]
        self.train = _read_list(spec["train_list"], self.task)
        self.val = _read_list(spec["val_list"], self.task)
        self.history = []

    @property
    def outputs(self):
        """Number of outputs a model's head needs: 1 (binary logit, regression), else one per class."""
        return len(self.classes) if self.task == "multiclass" else 1

    def progress(self, **fields):
        """A progress event: counts as "done/total" strings get an ETA (e.g. epoch="3/10", val_auc=0.91)."""
        sys.stdout.write("::progress " + json.dumps(_finite(fields)) + "\n")
        sys.stdout.flush()

    def score(self, samples, predictions):
        """The task's headline metric of predictions for samples: AUC (macro one-vs-rest AUC) or MAE."""
        labels = [s.label for s in samples]
        if self.task == "binary":
            return roc_auc(labels, [float(p) for p in predictions])
        if self.task == "multiclass":
            return multiclass_metrics(labels, [[float(v) for v in r] for r in predictions], len(self.classes))["auc_ovr_macro"]
        return regression_metrics(labels, [float(p) for p in predictions])["mae"]

    def epoch(self, epoch, lr=0.0, train_loss=None, val_loss=None, train_predictions=None, val_predictions=None, epochs=None):
        """Records one epoch of history.json (and prints its progress); returns the validation metric when given predictions."""
        key = "mae" if self.task == "regression" else "auc"
        entry = {"epoch": epoch, "lr": lr, "train_loss": train_loss, "val_loss": val_loss}
        if train_predictions is not None:
            entry["train_" + key] = self.score(self.train, train_predictions)
        value = None
        if val_predictions is not None:
            value = entry["val_" + key] = self.score(self.val, val_predictions)
        self.history.append(entry)
        shown = {"fold": self.fold, "epoch": f"{epoch}/{epochs}" if epochs else epoch}
        if value is not None and not math.isnan(value):
            shown["val_" + key] = round(value, 4)
        self.progress(**shown)
        return value

    def finish(self, train_predictions, val_predictions, best_epoch, backend, backend_detail="", epochs_run=None,
               parameters=None, images_seen=None, flops=None, weights_bytes=None):
        """Writes oof.csv, train_predictions.csv, history.json and metrics.json into run_dir; returns the metrics."""
        os.makedirs(self.run_dir, exist_ok=True)
        train_rows = self._rows(self.train, train_predictions, "training")
        val_rows = self._rows(self.val, val_predictions, "validation")
        y_train = [s.label for s in self.train]
        y_val = [s.label for s in self.val]
        metrics = {"fold": self.fold, "best_epoch": best_epoch, "epochs_run": epochs_run or max(1, len(self.history))}
        if self.task == "binary":
            p_train = [r[0] for r in train_rows]
            p_val = [r[0] for r in val_rows]
            threshold = youden_threshold(y_train, p_train)
            metrics["val"] = binary_metrics(y_val, p_val, threshold)
            metrics["train"] = binary_metrics(y_train, p_train, threshold)
            per_source = {}
            for source in sorted({s.source for s in self.val if s.label == 1}):
                idx = [i for i, s in enumerate(self.val) if s.label == 0 or s.source == source]
                per_source[source] = binary_metrics([y_val[i] for i in idx], [p_val[i] for i in idx])["auc"]
            metrics["per_source_auc"] = per_source
            header = ["id", "label", "source", "prob", "pred"]
            line = lambda s, r: [s.id, s.label, s.source, repr(r[0]), 1 if r[0] >= threshold else 0]
        elif self.task == "multiclass":
            k = len(self.classes)
            metrics = {"task": "multiclass", "classes": self.classes, **metrics,
                       "val": multiclass_metrics(y_val, val_rows, k), "train": multiclass_metrics(y_train, train_rows, k)}
            header = ["id", "label", "source"] + [f"p_{c}" for c in range(k)] + ["pred"]
            line = lambda s, r: [s.id, s.label, s.source] + [repr(v) for v in r] + [argmax(r)]
        else:
            p_train = [r[0] for r in train_rows]
            p_val = [r[0] for r in val_rows]
            metrics = {"task": "regression", "classes": [], **metrics,
                       "val": regression_metrics(y_val, p_val), "train": regression_metrics(y_train, p_train),
                       "val_by_target_bin": regression_by_bin(y_val, p_val)}
            header = ["id", "label", "source", "pred"]
            line = lambda s, r: [s.id, _number(s.label), s.source, repr(r[0])]
        metrics.update({"backend": backend, "backend_detail": backend_detail, "n_train": len(self.train), "n_val": len(self.val),
                        "parameters": parameters, "images_seen": images_seen if images_seen is not None else len(self.train) * metrics["epochs_run"]})
        if flops is not None:
            metrics["flops"] = flops
        if weights_bytes is not None:
            metrics["weights_bytes"] = weights_bytes
        if parameters is None:
            del metrics["parameters"]
        _write_csv(os.path.join(self.run_dir, "oof.csv"), header, [line(s, r) for s, r in zip(self.val, val_rows)])
        _write_csv(os.path.join(self.run_dir, "train_predictions.csv"), header, [line(s, r) for s, r in zip(self.train, train_rows)])
        _write_json(os.path.join(self.run_dir, "history.json"), self.history)
        _write_json(os.path.join(self.run_dir, "metrics.json"), metrics)
        return metrics

    def _rows(self, samples, predictions, which):
        rows = [[float(v) for v in p] if isinstance(p, (list, tuple)) else [float(p)] for p in predictions]
        if len(rows) != len(samples):
            raise ValueError(f"{len(rows)} {which} predictions for {len(samples)} {which} images (run.{'train' if which == 'training' else 'val'}, in order)")
        width = self.outputs
        if any(len(r) != width for r in rows):
            raise ValueError(f"a {self.task} prediction has {width} value{'s' if width > 1 else ''} per image")
        return rows


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def _read_list(file, task):
    with open(file, newline="") as f:
        rows = list(csv.DictReader(f))
    parse = _number if task == "regression" else (lambda t: int(float(t)))
    return [Sample(r["id"], r["file"], parse(r["label"]), r["source"], r["group"], r["fit"]) for r in rows]


def _write_csv(file, header, rows):
    with open(file + ".tmp", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(file + ".tmp", file)


def _write_json(file, value):
    with open(file + ".tmp", "w") as f:
        json.dump(_finite(value), f, indent=1)
        f.write("\n")
    os.replace(file + ".tmp", file)


def open_run(spec_file=None):
    """The fold this process trains: the spec named by argv[1] or $PIPELINE_TRAINER_SPEC."""
    spec_file = spec_file or (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PIPELINE_TRAINER_SPEC"))
    if not spec_file:
        raise SystemExit("pipeline_train: no trainer spec (pipeline passes its path as the first argument; "
                         "to rerun a fold alone, see the command in the stage's log)")
    with open(spec_file) as f:
        return Run(json.load(f))
