#!/usr/bin/env python3
"""Draw static/share.png, the 1200x630 picture link previews show (Open Graph), from site.yml's title.

Run once after changing the title: `python bench/make_share_image.py`. Pure Pillow with its bundled
font: no web font, nothing fetched. Replace static/share.png by a photo of your own if you prefer
(1200x630, no people's faces without consent; EXIF is stripped only from images in content/).
"""

from __future__ import annotations

import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placard.content import load_config  # noqa: E402
from placard.share_image import draw_share_image  # noqa: E402


def main() -> None:
    config = load_config(ROOT / "site.yml")
    target = ROOT / "static" / "share.png"
    target.write_bytes(draw_share_image(config.title, config.tagline))
    print(f"Wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
