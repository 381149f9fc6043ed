"""scikit-learn's MLPRegressor on the `auto_mpg` example's data and split.

The same preparation as `cargo run --release --example auto_mpg`: rows
without `mpg` dropped (398 kept, in file order), `random_split_exact(398,
318, 40, 2026)` (the Python twin in tools/fixtures/gen_random_split.py),
missing horsepower imputed with the training mean, features and target
standardised on the training part; then a 9-32-16-1 ReLU network trained
by Adam (learning rate 1e-3, batches of 16, no L2: alpha=0) one epoch at a
time with `partial_fit`, stopped 40 epochs after the best validation loss
and given back that epoch's weights, as the example's `EarlyStopping` does.
Prints a line per seed and the mean:

    python tools/sklearn/auto_mpg.py [SEEDS...]
"""
import copy
import csv
import pathlib
import sys

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.neural_network import MLPRegressor

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
from gen_random_split import random_split_exact  # noqa: E402

EPOCHS, PATIENCE = 500, 40


def load():
    with open(ROOT / "data" / "auto_mpg.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    features = [c for c in rows[0] if c not in ("mpg", "name")]
    rows = [r for r in rows if r["mpg"].strip() != ""]
    x = np.array([[float(r[c]) if r[c].strip() != "" else np.nan for c in features] for r in rows])
    y = np.array([float(r["mpg"]) for r in rows])
    return x, y


def run(seed, x, y):
    train, val, test = (np.array(p) for p in random_split_exact(len(x), 318, 40, 2026))
    fill = np.nanmean(x[train], axis=0)
    x = np.where(np.isnan(x), fill, x)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    xs = (x - mean) / std
    ym, ys = y[train].mean(), y[train].std()
    t = (y - ym) / ys
    model = MLPRegressor(hidden_layer_sizes=(32, 16), activation="relu", solver="adam", alpha=0.0,
                         batch_size=16, learning_rate_init=1e-3, random_state=seed, shuffle=True)
    best, best_loss, wait, epochs = None, np.inf, 0, 0
    for epoch in range(1, EPOCHS + 1):
        model.partial_fit(xs[train], t[train])
        epochs = epoch
        loss = mean_squared_error(t[val], model.predict(xs[val]))
        if loss < best_loss:
            best, best_loss, best_epoch, wait = copy.deepcopy(model), loss, epoch, 0
        else:
            wait += 1
            if wait >= PATIENCE:
                break
    pred = best.predict(xs[test]) * ys + ym
    r2 = r2_score(y[test], pred)
    rmse = mean_squared_error(y[test], pred) ** 0.5
    mae = mean_absolute_error(y[test], pred)
    print(f"sklearn seed={seed}: test_r2={r2:.4f} test_rmse={rmse:.4f} test_mae={mae:.4f} "
          f"best_epoch={best_epoch} epochs={epochs}")
    return r2, rmse, mae


def main():
    seeds = [int(s) for s in sys.argv[1:]] or [1, 2, 3, 4, 5]
    x, y = load()
    results = np.array([run(seed, x, y) for seed in seeds])
    r2, rmse, mae = results.mean(axis=0)
    print(f"sklearn mean of {len(seeds)}: test_r2={r2:.4f} test_rmse={rmse:.4f} test_mae={mae:.4f}")


if __name__ == "__main__":
    main()
