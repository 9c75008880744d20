"""The campaign's accent colour: WCAG 2.2 contrast (so the build can refuse an unreadable one) and the
small stylesheet that applies it over the theme's (static/style.css keeps its own for dark mode)."""

from __future__ import annotations

# The theme's light backgrounds the accent is written on (static/style.css --paper and --soft), and the
# white text of buttons written on the accent.
BACKGROUNDS = {"the page background": "#fffdf8", "the boxes' background": "#f3efe4", "white button text": "#ffffff"}
AA_TEXT = 4.5  # WCAG 2.2 SC 1.4.3, normal text


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.2, definition 'relative luminance') of #rrggbb."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.2 contrast ratio of two #rrggbb colours, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def accent_problem(colour: str) -> str | None:
    """Why `colour` cannot be the accent (links and buttons are written in it), or None."""
    worst = min(BACKGROUNDS.items(), key=lambda item: contrast_ratio(colour, item[1]))
    ratio = contrast_ratio(colour, worst[1])
    if ratio >= AA_TEXT:
        return None
    return (f"'{colour}' has a contrast of {ratio:.2f}:1 with {worst[0]} ({worst[1]}); links and buttons need at least "
            f"{AA_TEXT}:1 (WCAG AA), so choose a darker colour (for example #a4161a)")


def accent_stylesheet(colour: str) -> bytes:
    """accent.css: the accent for links, buttons and the next-event card in light mode."""
    return (f"/* site.yml accent_colour; dark mode keeps the theme's light accent. */\n"
            f"@media not (prefers-color-scheme: dark) {{ :root {{ --accent-dark: {colour}; --accent: {colour}; }} }}\n").encode()
