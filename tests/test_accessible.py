"""Accessible and valid: the Nu HTML Checker over the seed site, contrast and target sizes from style.css."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import NOW, REPO

from placard.output import write_output
from placard.pipeline import Project, build_site

# Installed by `npm install --prefix .tools/vnu vnu-jar@26.9.27` (git-ignored); VNU_JAR overrides.
VNU_JAR = Path(os.environ.get("VNU_JAR", REPO / ".tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar"))
CSS = (REPO / "placard/theme/static/style.css").read_text()


def vnu_missing() -> str | None:
    """Why the Nu checker cannot run here, or None."""
    if not shutil.which("java"):
        return "java is not installed (apt-get install default-jre-headless)"
    if not VNU_JAR.is_file():
        return f"vnu.jar not found at {VNU_JAR}; run: npm install --prefix .tools/vnu vnu-jar@26.9.27"
    return None


def vnu_errors(files: dict[str, bytes], folder: Path) -> tuple[list[str], list[str]]:
    """Write a built site into `folder` and run the Nu HTML Checker on every page: (pages, 'page:line: error' lines)."""
    write_output(files, folder)
    pages = sorted(str(p) for p in folder.rglob("*.html"))
    result = subprocess.run(["java", "-jar", str(VNU_JAR), "--format", "json", "--errors-only", *pages],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr)["messages"]
    prefix = folder.as_uri() + "/"
    return pages, [f"{m.get('url', '').removeprefix(prefix)}:{m.get('lastLine')}: {m['message']}" for m in messages if m["type"] == "error"]


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
def test_seed_site_is_valid_html_for_the_nu_checker(tmp_path):
    _, output = build_site(Project(REPO), NOW)
    pages, errors = vnu_errors(output.files, tmp_path / "out")
    print(f"Nu HTML Checker {VNU_JAR.parent.parent.parent.name}: {len(pages)} pages, {len(errors)} errors")
    assert errors == []
    assert len(pages) >= 15


def css_colours(scheme: str = "light") -> dict[str, str]:
    """The stylesheet's colour variables: the first :root block's, with the dark-mode block's over them for "dark"."""
    light = re.search(r":root \{(.*?)\}", CSS, re.S)[1]
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", light))
    if scheme == "dark":
        dark = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", CSS, re.S)[1]
        colours.update(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", dark))
    return colours


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.2, definition 'relative luminance')."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_helper_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54


@pytest.mark.parametrize("text, background", [
    ("ink", "paper"), ("muted", "paper"), ("accent-dark", "paper"), ("accent", "paper"),
    ("muted", "soft"), ("ink", "soft"), ("accent-dark", "soft"), ("#ffffff", "ink"), ("#fde68a", "ink"), ("#fde68a", "header"),
    ("#1b1b1b", "#fde68a"), ("#7c2d12", "#ffedd5"), ("#1e3a8a", "soft"), ("#7a0f12", "soft"),
    ("on-accent", "accent-dark"), ("on-accent", "accent"), ("#ffffff", "header"),
])
def test_text_colours_have_at_least_4_5_to_1_contrast(text, background):
    colours = css_colours()
    fore, back = colours.get(text, text), colours.get(background, background)
    assert contrast(fore, back) >= 4.5, f"{text} on {background}: {contrast(fore, back):.2f}"


@pytest.mark.parametrize("text, background", [
    ("ink", "paper"), ("muted", "paper"), ("accent-dark", "paper"), ("accent", "paper"), ("muted", "soft"), ("ink", "soft"),
    ("accent-dark", "soft"), ("on-accent", "accent-dark"), ("on-accent", "accent"), ("#ffffff", "header"), ("#fde68a", "header"),
    ("#fca5a5", "soft"), ("#bfdbfe", "soft"), ("#fed7aa", "#431407"),
])
def test_dark_mode_colours_have_at_least_4_5_to_1_contrast(text, background):
    colours = css_colours("dark")
    fore, back = colours.get(text, text), colours.get(background, background)
    assert contrast(fore, back) >= 4.5, f"dark mode: {text} on {background}: {contrast(fore, back):.2f}"


def test_focus_is_visible_and_targets_are_at_least_24px():
    assert re.search(r":focus-visible\s*\{\s*outline:\s*3px solid var\(--focus\)", CSS)
    assert contrast(css_colours()["focus"], css_colours()["paper"]) >= 3  # WCAG 1.4.11 non-text contrast
    assert re.search(r"nav a\s*\{[^}]*min-height:\s*24px", CSS)
    assert ".skip:focus" in CSS


def test_every_page_has_lang_skip_link_and_main(project):
    _, output = build_site(project, NOW)
    for path, data in output.files.items():
        if path.endswith(".html"):
            html = data.decode()
            assert re.search(r'<html lang="[a-z]{2}">', html), path
            assert '<a class="skip" href="#main">' in html and '<main id="main"' in html, path


# axe-core in Chromium: the seed's page types, light and dark, at a phone's and a laptop's width

AXE = Path(os.environ.get("AXE_JS", REPO / ".tools/axe/node_modules/axe-core/axe.min.js"))
AXE_PAGES = ["", "news/", "news/demonstrate-support-oil-workers-in-kazakhstan/", "calendar/",
             "calendar/london-demonstration-2011-12-21/", "calendar/london-demonstration-2011-12-21/flyer/",
             "links/", "contact/", "about/", "search/", "ru/", "kk/links/", "404.html"]


def test_axe_finds_no_violation_on_any_page_type_light_or_dark_phone_or_laptop(tmp_path):
    from datetime import datetime, timezone

    from test_campaign import served_site
    from test_validators import CHROMIUM, CHROMIUM_ARGS, browser_missing

    from placard.pipeline import Project, build_site

    if browser_missing():
        pytest.skip(browser_missing())
    if not AXE.is_file():
        pytest.skip(f"axe-core not found at {AXE}; run: npm install --prefix .tools/axe axe-core@4.14.1 (.ci/run does)")
    from playwright.sync_api import sync_playwright

    before = datetime(2011, 12, 20, 9, 0, tzinfo=timezone.utc)  # the next-protest card, share links, actions all shown
    base, server = served_site(build_site(Project(REPO), before)[1], tmp_path / "site")
    found, loads = {}, 0
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for scheme in ("light", "dark"):
                for width, height in ((390, 844), (1280, 900)):
                    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme, bypass_csp=True)
                    tab = context.new_page()
                    tab.clock.set_fixed_time(before)
                    for path in AXE_PAGES:
                        assert tab.goto(base + path).status == 200, path
                        tab.add_script_tag(path=str(AXE))
                        violations = tab.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                                  ".violations.map(v => `${v.id} (${v.impact}): ${v.nodes[0].target.join(' ')}`)")
                        loads += 1
                        if violations:
                            found[f"{scheme} {width}px /{path}"] = violations
                    context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert loads == len(AXE_PAGES) * 4
    assert found == {}
