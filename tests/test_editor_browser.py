"""The preview's editor in a real browser (Playwright driving Debian's Chromium) against the real
`build.py serve`: create an event through the form and see its page, calendar entry and .ics; a bad
date shown beside its field with nothing written; two tabs on one file; undo restores the bytes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from conftest import NOW, REPO, make_project

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`build.py serve` on a free loopback port over a fixture project, and a browser."""
    project = make_project(tmp_path_factory.mktemp("editor"))
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(project.root), "--now", NOW.isoformat(), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    for line in process.stdout:
        match = re.search(r"Serving the preview on (http://127\.0\.0\.1:\d+/)", line)
        if match:
            base = match.group(1)
            break
    assert base, "the preview did not start"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield project, base, browser
        finally:
            browser.close()
            process.terminate()
            process.wait(10)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_an_event_created_through_the_form_gets_its_page_calendar_entry_and_ics(served):
    project, base, browser = served
    tab = browser.new_page()
    tab.goto(base + "calendar/")
    tab.click("#placard-editor-bar >> text=New event")
    tab.fill("#f-title", "Vigil for the strikers")
    tab.fill("#f-slug", "vigil-for-the-strikers")
    tab.fill("#f-starts-date", "2026-12-10")
    tab.fill("#f-starts-time", "18:30")
    tab.fill("#f-timezone", "Asia/Almaty")
    tab.select_option("#f-status", "scheduled")
    tab.fill("#f-venue", "Republic Square")
    tab.fill("#f-body-text", "Bring *candles*.")
    tab.wait_for_selector("#body-preview em", timeout=5000)  # the live preview, by the build's Markdown
    tab.click("button.save")
    tab.wait_for_url(base + "calendar/vigil-for-the-strikers/", timeout=15000)
    assert "Vigil for the strikers" in tab.inner_text("main")
    written = (project.content / "events" / "2026-12-10-vigil-for-the-strikers.md").read_text(encoding="utf-8")
    uid = re.search(r"^uid: ([0-9a-f-]{36})$", written, re.M).group(1)
    assert written.startswith("---\ntitle: Vigil for the strikers\nslug: vigil-for-the-strikers\nuid: ")
    assert "\nstarts: 2026-12-10 18:30\ntimezone: Asia/Almaty\n" in written and written.endswith("---\n\nBring *candles*.")
    assert b"Vigil for the strikers" in fetch(base + "calendar/")
    calendar = icalendar.Calendar.from_ical(fetch(base + "calendar/vigil-for-the-strikers/event.ics"))
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["UID"]).startswith(uid) or uid in str(event["UID"])
    assert event.decoded("DTSTART") == datetime(2026, 12, 10, 18, 30, tzinfo=ZoneInfo("Asia/Almaty"))  # 18:30 in the event's own zone
    feed = icalendar.Calendar.from_ical(fetch(base + "calendar.ics"))
    assert any(str(e["SUMMARY"]) == "Vigil for the strikers" for e in feed.walk("VEVENT"))


def test_a_bad_date_is_shown_beside_its_field_and_nothing_is_written(served):
    project, base, browser = served
    before = sorted(path.name for path in (project.content / "news").iterdir())
    tab = browser.new_page()
    tab.goto(base + "__placard__/new/post")
    tab.fill("#f-title", "Trial resumes")
    tab.fill("#f-slug", "trial-resumes")
    tab.fill("#f-date", "2026-02-30")
    tab.fill("#f-author", "Campaign")
    tab.fill("#f-body-text", "The trial resumed.")
    tab.click("button.save")
    error = tab.wait_for_selector("#f-date-error")
    assert "'2026-02-30' is not a real date (check the month and day)" in error.inner_text()
    assert tab.get_attribute("#f-date", "aria-invalid") == "true"
    assert "f-date-error" in tab.get_attribute("#f-date", "aria-describedby")
    assert tab.evaluate("document.activeElement.id") == "problems"  # the summary, read out first
    assert tab.input_value("#f-title") == "Trial resumes"  # nothing typed is lost
    assert sorted(path.name for path in (project.content / "news").iterdir()) == before


def test_two_tabs_on_one_file_refuse_the_second_save_and_undo_restores_the_bytes(served):
    project, base, browser = served
    target = project.content / "pages" / "about.md"
    original = target.read_bytes()
    first, second = browser.new_page(), browser.new_page()
    for tab in (first, second):
        tab.goto(base + "about/")
        tab.click("#placard-editor-bar >> text=Edit this page")
    first.fill("#f-title", "About us")
    first.click("button.save")
    first.wait_for_url(base + "about/")
    first.wait_for_selector("h1:has-text('About us')")
    saved = target.read_bytes()
    assert saved != original and b"title: About us" in saved
    second.fill("#f-summary", "Written in the second tab.")
    second.click("button.save")
    refusal = second.wait_for_selector("#refusal")
    assert "was changed since this form was opened" in refusal.inner_text()
    assert "+title: About us" in second.inner_text(".diff")
    assert target.read_bytes() == saved  # the second tab overwrote nothing
    assert second.input_value("#f-summary") == "Written in the second tab."  # and lost nothing
    first.click("#placard-editor-bar >> text=Undo last save")
    first.wait_for_url(base + "about/")
    assert target.read_bytes() == original


def test_another_website_cannot_write_even_knowing_the_token(served):
    """A page on another origin submits a form to the preview (with the real token, as if it had leaked): refused."""
    project, base, browser = served
    tab = browser.new_page()
    tab.goto(base + "__placard__/new/page")
    token = tab.input_value("input[name=__token]")
    attack = (f'<!DOCTYPE html><html><body><form method="post" action="{base}__placard__/save">'
              f'<input name="__token" value="{token}"><input name="__kind" value="page"><input name="__file" value="">'
              '<input name="__base" value=""><input name="title" value="Owned"><input name="slug" value="owned">'
              '<input name="__body" value="x"><input name="__action" value="save"></form>'
              "<script>document.forms[0].submit()</script></body></html>")
    tab.route("http://evil.test/", lambda route: route.fulfill(status=200, content_type="text/html", body=attack))
    tab.goto("http://evil.test/")
    tab.wait_for_url(base + "__placard__/save")
    assert tab.inner_text("body").startswith("Refused: a change must come from the preview's own pages")
    assert not (project.content / "pages" / "owned.md").exists()


def test_an_entity_with_a_tie_and_two_sources_is_made_with_the_keyboard(served):
    """Rows are added with the form's own buttons (no script needed), reached and pressed with the keyboard."""
    project, base, browser = served
    tab = browser.new_page()
    tab.goto(base + "links/")
    tab.click("#placard-editor-bar >> text=New entity")
    tab.fill("#f-name", "Jane Roe")
    tab.fill("#f-slug", "jane-roe")
    tab.select_option("#f-type", "person")
    tab.focus("button[value='add:ties']")
    tab.keyboard.press("Enter")  # a tie, with its first source
    tab.wait_for_selector("#f-ties\\.0\\.relation")
    tab.select_option("#f-ties\\.0\\.relation", "board-member-of" if "board-member-of" in tab.inner_text("#f-ties\\.0\\.relation") else "owns")
    tab.fill("#f-ties\\.0\\.object", "acme")
    tab.fill("#f-ties\\.0\\.sources\\.0\\.post", "first-post")
    tab.focus("button[value='add:ties.0.sources']")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("#f-ties\\.0\\.sources\\.1\\.url")
    assert tab.input_value("#f-ties\\.0\\.object") == "acme"  # kept across the added row
    tab.fill("#f-ties\\.0\\.sources\\.1\\.url", "https://example.org/board")
    tab.fill("#f-ties\\.0\\.sources\\.1\\.title", "Board of directors")
    tab.fill("#f-body-text", "A director.")
    tab.focus("button.save")
    tab.keyboard.press("Enter")
    tab.wait_for_url(base + "links/jane-roe/")  # the entity's own page
    assert "Jane Roe" in tab.inner_text("main")
    written = (project.content / "links" / "jane-roe.md").read_text(encoding="utf-8")
    assert "\nties:\n  - relation: " in written and "    object: acme\n    sources:\n      - post: first-post\n      - url: https://example.org/board\n        title: Board of directors\n" in written


def test_a_photo_is_uploaded_through_the_form_with_the_keyboard_and_shown_on_the_page(served, tmp_path):
    """The file chosen in the form's own file input, its alt text typed, the upload button pressed with the
    keyboard: the status is focused (read out), the photo is in the text, and once saved on the post's page."""
    from test_editor_upload import MAKE, photo_with_exif
    from PIL import Image

    project, base, browser = served
    photo = tmp_path / "Rally photo.jpg"
    photo.write_bytes(photo_with_exif())
    tab = browser.new_page()
    tab.goto(base + "news/first-post/")
    tab.click("#placard-editor-bar >> text=Edit this page")
    assert tab.inner_text("label[for=f-upload-file]") == "Photo file"
    tab.set_input_files("#f-upload-file", str(photo))
    tab.fill("#f-upload-alt", "Strikers on the square")
    tab.press("#f-upload-alt", "Enter")  # (Enter there uploads; anywhere else it is Check and save)
    status = tab.wait_for_selector("#upload-status h2")
    assert status.inner_text() == "Photo added"
    assert tab.evaluate("document.activeElement.id") == "upload-status"
    assert "Saved as content/news/rally-photo.jpg" in tab.inner_text("#upload-status")
    assert tab.input_value("#f-body-text").endswith("![Strikers on the square](rally-photo.jpg)\n")
    shown = tab.wait_for_selector("#body-preview img[alt='Strikers on the square']")  # the live preview shows it, from content/
    tab.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=shown, timeout=5000)
    assert "/__placard__/photo?file=content%2Fnews%2Frally-photo.jpg&token=" in shown.get_attribute("src")
    with Image.open(project.content / "news" / "rally-photo.jpg") as image:
        assert image.getexif().get(MAKE) is None and dict(image.getexif()) == {}
    tab.click("button.save")
    tab.wait_for_url(base + "news/first-post/", timeout=15000)
    image = tab.wait_for_selector("main img[alt='Strikers on the square']")
    loaded = tab.evaluate("(img) => [img.complete && img.naturalWidth > 0, img.currentSrc]", image)
    assert loaded[0] and re.search(r"/news/rally-photo\.[0-9a-f]{8}\.\d+w\.(avif|webp|jpg)$", loaded[1]), loaded


def test_enter_in_a_field_checks_and_saves_rather_than_adding_a_row(served):
    """Enter in a text field presses the form's default button: Check and save, not the first 'Add one more' (a post's replies)."""
    project, base, browser = served
    tab = browser.new_page()
    tab.goto(base + "news/second-post/")
    tab.click("#placard-editor-bar >> text=Edit this page")
    assert tab.locator("button[value^='add:']").count() >= 1  # the form has a row button before the save button
    tab.fill("#f-summary", "Saved with the Enter key.")
    tab.press("#f-summary", "Enter")
    tab.wait_for_url(base + "news/second-post/", timeout=15000)
    assert "summary: Saved with the Enter key." in (project.content / "news" / "second-post.md").read_text(encoding="utf-8")


def test_axe_finds_no_violation_in_the_forms_upload_and_delete_pages(served, tmp_path):
    """axe-core on the editor's own pages: a new event's form, a post's form after a refused and an accepted upload
    (the status region, the lead photo's preview), the delete confirmation and a refused delete, at 390 and 1280 px."""
    from test_accessible import AXE

    if not AXE.is_file():
        pytest.skip(f"axe-core not found at {AXE}; run: npm install --prefix .tools/axe axe-core@4.14.1 (.ci/run does)")
    from test_editor_upload import photo_with_exif

    project, base, browser = served
    photo, drawing = tmp_path / "night.jpg", tmp_path / "drawing.svg"
    photo.write_bytes(photo_with_exif())
    drawing.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    found, loads = {}, 0

    def check(tab, name: str) -> None:
        nonlocal loads
        tab.add_script_tag(path=str(AXE))
        violations = tab.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                                  ".violations.map(v => `${v.id} (${v.impact}): ${v.nodes[0].target.join(' ')}`)")
        loads += 1
        if violations:
            found[name] = violations

    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        tab = context.new_page()
        tab.goto(base + "__placard__/new/event?lang=kk")
        check(tab, f"{width} new event (kk)")
        tab.goto(base + "__placard__/edit?file=content/news/second-post.md")
        tab.set_input_files("#f-upload-file", str(drawing))
        tab.fill("#f-upload-alt", "A drawing")
        tab.click("button[value='upload:body']")
        tab.wait_for_selector("#upload-status h2")
        check(tab, f"{width} upload refused")
        tab.set_input_files("#f-upload-file", str(photo))
        tab.fill("#f-upload-alt", "The square at night")
        tab.click("button[value='upload:image']")
        tab.wait_for_selector(".lead-preview")
        check(tab, f"{width} upload added, lead preview")
        tab.goto(base + "__placard__/edit?file=content/pages/about.md&lang=ru")
        tab.click("button.delete")
        tab.wait_for_selector("h1")
        check(tab, f"{width} delete (ru): " + ("refused" if tab.locator("#broken").count() else "confirm"))
        tab.goto(base + "__placard__/edit?file=content/news/first-post.md")
        tab.click("button.delete")
        tab.wait_for_selector("#broken")
        check(tab, f"{width} delete refused")
        context.close()
    assert loads == 10 and found == {}
