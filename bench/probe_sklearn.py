"""The probe bench's peer: writes each problem's data and times scikit-learn on it.

usage: probe_sklearn.py OUT_DIR

Problems (the sizes `pipeline init` meets and the ones a 50k-image study meets):
  digits10   sklearn's 1,797 digit scans upsampled to 16 x 16 x 3 (768 features), 1,437 training
             rows (one fold of five), 10 classes one-vs-rest, C=1
  binary50k  50,000 x 768 Gaussian features with a planted linear score, binary, C=1
  ridge50k   the same features, a numeric target, Ridge(alpha=1)
Each problem's standardised features go to OUT_DIR/<name>.x.f64 (row-major float64), targets to
<name>.y.f64; OUT_DIR/sklearn.json gets the median wall time of each solver and its coefficients.
"""
import json
import sys
import time

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def median_time(fit):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), model


def digits10():
    digits = load_digits()
    images = np.stack([zoom(im, 2, order=1) for im in digits.images])  # 16 x 16
    x = np.repeat(images.reshape(len(images), -1)[:, :, None], 3, axis=2).reshape(len(images), -1)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))[: len(x) * 4 // 5]
    return x[order], digits.target[order].astype(np.float64)


def gaussian(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) @ (np.eye(d) + 0.1 * rng.standard_normal((d, d)))
    score = x @ rng.standard_normal(d) / np.sqrt(d)
    return x, score


def save(name, x, y):
    z = StandardScaler().fit_transform(x)
    np.ascontiguousarray(z, dtype='<f8').tofile(f'{out}/{name}.x.f64')
    np.ascontiguousarray(y, dtype='<f8').tofile(f'{out}/{name}.y.f64')
    return z


results = {}
x, y = digits10()
z = save('digits10', x, y)
entry = {'n': len(z), 'd': z.shape[1], 'classes': 10, 'task': 'multiclass'}
for solver in ['lbfgs', 'newton-cholesky']:
    seconds, model = median_time(lambda: OneVsRestClassifier(LogisticRegression(C=1.0, solver=solver, max_iter=10000)).fit(z, y))
    entry[solver] = seconds
# The reference answer: the same exact solver run to a tight tolerance (its default stops at 1e-4).
exact = OneVsRestClassifier(LogisticRegression(C=1.0, solver='newton-cholesky', tol=1e-12, max_iter=1000)).fit(z, y)
entry['coef'] = np.array([e.coef_[0] for e in exact.estimators_]).tolist()
entry['intercept'] = [float(e.intercept_[0]) for e in exact.estimators_]
results['digits10'] = entry

x, score = gaussian(50_000, 768, 1)
y = (score + 0.5 * np.random.default_rng(2).standard_normal(len(score)) > 0).astype(np.float64)
z = save('binary50k', x, y)
entry = {'n': len(z), 'd': z.shape[1], 'task': 'binary'}
for solver in ['lbfgs', 'newton-cholesky']:
    seconds, model = median_time(lambda: LogisticRegression(C=1.0, solver=solver, max_iter=10000).fit(z, y))
    entry[solver] = seconds
exact = LogisticRegression(C=1.0, solver='newton-cholesky', tol=1e-12, max_iter=1000).fit(z, y)
entry['coef'] = exact.coef_[0].tolist()
entry['intercept'] = float(exact.intercept_[0])
results['binary50k'] = entry

y = score + 0.3 * np.random.default_rng(3).standard_normal(len(score))
z = save('ridge50k', x, y)
seconds, model = median_time(lambda: Ridge(alpha=1.0).fit(z, y))
results['ridge50k'] = {'n': len(z), 'd': z.shape[1], 'task': 'regression', 'ridge': seconds, 'coef': model.coef_.tolist(), 'intercept': float(model.intercept_)}

with open(f'{out}/sklearn.json', 'w') as f:
    json.dump(results, f)
print(json.dumps({k: {s: v[s] for s in ('lbfgs', 'newton-cholesky', 'ridge') if s in v} for k, v in results.items()}))
