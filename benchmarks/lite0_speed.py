"""Images per second of EfficientNet-Lite0 here, training and inference, by image size: the
numbers the PACS and MNIST-M grids are planned from.

Training: one SGD step of the whole network (forward, backward, update) on a batch of 32;
inference: a forward pass in eval mode without gradients. Each figure is the median of
``--repeats`` timed batches after two warm-up batches. Only meaningful on an otherwise idle
machine: the rows record the load average at the start.

Run:   .venv/bin/python benchmarks/lite0_speed.py [--sizes 224,160,128,96,64,32] [--threads 2]
       [--device cpu|cuda]
Writes benchmarks/results/lite0_speed.json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "lite0_speed.json"


def timed(step: object, repeats: int) -> float:
    for _ in range(2):
        step()  # type: ignore[operator]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="224,160,128,96,64,32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    import torch

    from domainfit.io_utils import write_json_atomic
    from domainfit.models.named_backbones import build_named

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = build_named("efficientnet-lite0", classifier=True).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    load = os.getloadavg()[0]
    name = (
        torch.cuda.get_device_name(0)
        if args.device == "cuda"
        else f"{os.cpu_count()}-core CPU ({platform.machine()}), {args.threads} threads"
    )
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        x = torch.randn(args.batch, 3, size, size, device=device)
        y = torch.randint(0, 1000, (args.batch,), device=device)

        def train_step(x: torch.Tensor = x, y: torch.Tensor = y) -> None:
            model.train()
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            if args.device == "cuda":
                torch.cuda.synchronize()

        def infer_step(x: torch.Tensor = x) -> None:
            model.eval()
            with torch.no_grad():
                model(x)
            if args.device == "cuda":
                torch.cuda.synchronize()

        for metric, step in (("train_img_per_s", train_step), ("infer_img_per_s", infer_step)):
            seconds = timed(step, args.repeats)
            value = round(args.batch / seconds, 1)
            rows.append(
                {
                    "task": f"{size} px, batch {args.batch}",
                    "method": "efficientnet-lite0",
                    "seed": 0,
                    "metric": metric,
                    "value": value,
                    "seconds": round(seconds, 3),
                    "device": name,
                    "load_average_at_start": round(load, 2),
                }
            )
            print(f"{size:4d} px {metric}: {value}", flush=True)
    write_json_atomic(
        OUT,
        {
            "benchmark": "lite0_speed",
            "command": "python " + " ".join(["benchmarks/lite0_speed.py", *sys.argv[1:]]),
            "date": dt.date.today().isoformat(),
            "machine": name,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
