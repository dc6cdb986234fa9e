"""One AutoGluon MultiModalPredictor run, inside its own virtualenv (see auto.py).

    python autogluon_run.py TRAIN_CSV TEST_CSV OUT_DIR --model FOLDER --time-limit S --seed N

Trains on TRAIN_CSV's ``text``/``label`` columns with the Hugging Face text backbone in FOLDER
(no hub access: HF_HUB_OFFLINE is set by the caller), AutoGluon's own defaults for everything
else, then writes OUT_DIR/predictions.csv (one ``prediction`` per TEST_CSV row) and
OUT_DIR/run.json (fit and predict seconds). Imports nothing from domainfit.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("out")
    parser.add_argument("--model", required=True)
    parser.add_argument("--time-limit", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from autogluon.multimodal import MultiModalPredictor

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train = pd.read_csv(args.train)[["text", "label"]]
    test = pd.read_csv(args.test)[["text"]]
    train["label"] = train["label"].astype(str)
    predictor = MultiModalPredictor(
        label="label", eval_metric="accuracy", path=str(out / "predictor"), verbosity=2
    )
    start = time.perf_counter()
    predictor.fit(
        train,
        time_limit=args.time_limit,
        seed=args.seed,
        hyperparameters={
            "model.names": ["hf_text"],
            "model.hf_text.checkpoint_name": args.model,
            "env.num_gpus": 0,
        },
    )
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pred = predictor.predict(test)
    predict_seconds = time.perf_counter() - start
    pd.DataFrame({"prediction": pd.Series(pred).astype(str).to_numpy()}).to_csv(
        out / "predictions.csv", index=False
    )
    run = {"fit_seconds": fit_seconds, "predict_seconds": predict_seconds}
    (out / "run.json").write_text(json.dumps(run, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
