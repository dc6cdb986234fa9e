"""A resized copy of PACS (or MNIST-M) small enough to travel to a GPU machine.

The GPU machine has no ../shared, and a call carries at most 64 MiB: PACS is 203 MB at 227 px.
Resized to 192 px JPEG (quality 75) it is 59.3 MiB (224 px: 73.5 MiB, too large); the layout stays
``<out>/<domain>/<class>/<file>.jpg``, so ``pacs_lodo.py --images <out>`` reads it as it reads the
shared data (every image is read back through the backbone's own convention, which resizes again
to the fine-tuning size). Each copied file is checked against SHA256SUMS first.

Run:   .venv/bin/python benchmarks/resize_images.py --out .device/pacs192 [--size 192]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--quality", type=int, default=75)
    args = parser.parse_args()
    from PIL import Image

    import domainfit
    from domainfit.progress import track

    if args.out.exists():
        print(f"{args.out} exists; choose another --out", file=sys.stderr)
        return 2
    tmp = args.out.with_name(args.out.name + ".tmp")
    total = 0
    for domain in ("photo", "art_painting", "cartoon", "sketch"):
        ds = domainfit.load_data(f"pacs:{domain}")  # verified against SHA256SUMS
        for path, rel in track(list(zip(ds.inputs, ds.ids, strict=True)), f"resizing {domain}"):
            dest = tmp / domain / Path(rel).with_suffix(".jpg")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with Image.open(path) as im:
                small = im.convert("RGB").resize((args.size, args.size), Image.Resampling.BICUBIC)
                small.save(dest, quality=args.quality)
            total += dest.stat().st_size
    tmp.rename(args.out)
    print(f"wrote {args.out}: {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
