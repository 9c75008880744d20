#!/usr/bin/env python3
"""Photo benchmark: N posts each showing a generated 4000x3000 JPEG (with EXIF and GPS), built cold, again with
nothing changed, and after one photo changed; wall time, CPU and peak memory of each build (a fresh process),
and what `build.py check` counts for one post page on a 390 px phone, against the original photo's bytes.

The photos are made here (multi-scale colour noise, which compresses about as badly as a crowd in a square:
a pessimistic stand-in for real photos), never downloaded.

    .venv/bin/python bench/photo_bench.py --posts 200
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from build_bench import NOW, PROBE  # noqa: E402

# build_bench's probe, but the main process's peak from /proc (VmHWM): ru_maxrss of a process started from
# this one counts this one's memory before exec (Linux keeps the larger across execve), and this one holds
# the generated photos (about 190 MB). The workers' peak is still ru_maxrss (they fork from the build).
PEAK = "max(me.ru_maxrss, kids.ru_maxrss) / 1024"
PHOTO_PROBE = PROBE.replace(PEAK, "max(hwm(), kids.ru_maxrss / 1024)").replace(
    "t0 = time.perf_counter()", "hwm = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024\nt0 = time.perf_counter()")
from corpus import write_placard  # noqa: E402


def make_photo(width: int, height: int, seed: int = 0) -> bytes:
    """A photo-sized JPEG of layered colour noise, carrying camera, owner and GPS EXIF (to prove it is removed)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(60, 200) for _ in range(3)))
    for scale, amount in ((64, 0.5), (16, 0.35), (4, 0.25), (1, 0.12)):
        size = (max(2, width // scale // 8), max(2, height // scale // 8))
        layer = Image.merge("RGB", [Image.effect_noise(size, 90 + rng.random() * 30) for _ in range(3)])
        image = Image.blend(image, layer.resize((width, height), Image.Resampling.BICUBIC), amount)
    image = Image.blend(image, Image.effect_noise((width, height), 12).convert("RGB"), 0.08)
    exif = Image.Exif()
    exif[0x010F], exif[0x013B] = "Bench camera", "Bench owner"
    exif.get_ifd(0x8825).update({1: "N", 2: (43.0, 20.0, 30.0), 3: "E", 4: (52.0, 51.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def write_photo_corpus(n: int, target: Path) -> None:
    """The text corpus of build_bench with a photo at the top of every post's body."""
    write_placard(n, target)
    photos = [make_photo(4000, 3000, seed) for seed in range(min(n, 8))]  # (8 distinct photos, each saved under n names)
    for number, post in enumerate(sorted((target / "content" / "news").glob("post-*.md"))):
        photo = post.with_suffix(".jpg")
        photo.write_bytes(photos[number % len(photos)] + number.to_bytes(4, "big"))  # distinct bytes: each one derived
        head, _, body = post.read_text(encoding="utf-8").partition("---\n\n")
        post.write_text(f"{head}---\n\n![A crowd in the square, photo {number}]({photo.name})\n\n{body}", encoding="utf-8")


def timed_build(root: Path) -> dict:
    """One build in a fresh process: wall, CPU (with workers) and peak RSS."""
    assert PEAK in PROBE
    probe = PHOTO_PROBE.format(repo=str(REPO), root=str(root), now=NOW)
    return json.loads(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout)


def phone_bytes(root: Path, page: str) -> tuple[int, dict[str, int]]:
    from placard.check import check_site

    _, weights = check_site(root / "output")
    return weights.pages[page], weights.files[page]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "site"
        write_photo_corpus(args.posts, root)
        print(f"{args.posts} posts, each with a 4000x3000 JPEG; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
        rows = {"cold": timed_build(root), "nothing changed": timed_build(root)}
        photo = root / "content" / "news" / "post-00003.jpg"
        photo.write_bytes(make_photo(4000, 3000, 99))
        rows["one photo changed"] = timed_build(root)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        for name, row in rows.items():
            print(f"{name:>18}: {row['wall']:6.2f} s wall, {row['cpu']:6.2f} s CPU, peak {row['peak_mb']:.0f} MB")
        page = "news/post-00003/index.html"
        total, files = phone_bytes(root, page)
        print(f"{page} on a 390 px phone (DPR 2): {total / 1024:.1f} KB: " + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in files.items()))
        print(f"  before (the original published as is): {(photo.stat().st_size + total - max(files.values())) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
