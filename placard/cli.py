"""Command line (`placard` or a site's `build.py`): build (default), serve, new, check, zip, init, theme,
migrate. Reads the clock once, here, and passes it in."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import installed_version
from .errors import BuildError
from .project import BuildReport, Project, RenderOptions


def parse_now(text: str | None) -> datetime:
    """The build time: --now for reproducible builds, else the clock (the only place it is read)."""
    if text is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def make_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    # --root and --now work before or after the command (build.py zip --now ... as well as build.py --now ... zip).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="the project folder (default: current folder)")
    common.add_argument("--now", default=argparse.SUPPRESS, help="build as if it were this time (ISO 8601), for reproducible builds")
    parser = argparse.ArgumentParser(prog=program_name(), description="Build the campaign site from content/ into output/.", parents=[common])
    parser.add_argument("--version", action="version", version=f"placard {installed_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=lambda **kw: argparse.ArgumentParser(parents=[common], **kw))
    sub.add_parser("build", help="build the site into output/ (the default)")
    serve = sub.add_parser("serve", help="build, serve on 127.0.0.1 and rebuild on every save")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    serve.add_argument("--read-only", action="store_true", help="no editing in the browser (no Edit links, no forms)")
    check = sub.add_parser("check", help="audit output/: no request to another host, every internal link resolves, headings, page weight")
    check.add_argument("--offline", action="store_true", help="also require links to name files (for a file:// or zip copy)")
    check.add_argument("--dir", type=Path, help="the built folder to audit (default: output/)")
    sub.add_parser("zip", help="build an offline copy (works from file://) into dist/<name>-<date>.zip with a SHA-256 file")
    new = sub.add_parser("new", help="start a new post, event, page or register entity from a complete example, or add a tie to an entity")
    new.add_argument("kind", choices=["post", "event", "page", "entity", "tie"])
    new.add_argument("title", nargs="+", help='the title (an entity: its name); for a tie: SUBJECT RELATION OBJECT, e.g. richard-evans chairman-of samruk-kazyna')
    new.add_argument("--type", default="company", help="an entity's kind: person, company, public-body, government or organisation")
    new.add_argument("--lang", choices=["en", "ru", "kk"], help="the language of the title and text (the slug is transliterated to ASCII)")
    new.add_argument("--translates", metavar="SLUG", help="make a translation of the item with this slug (its text only)")
    init = sub.add_parser("init", help="write a new, complete campaign site into an empty folder")
    init.add_argument("folder", type=Path)
    init.add_argument("--languages", default="en", help="the site's languages, the default first (e.g. en,ru,kk)")
    theme = sub.add_parser("theme", help="compare the site's own templates and static files with placard's theme, or copy one to change it")
    theme.add_argument("action", choices=["diff", "copy"])
    theme.add_argument("name", nargs="?", help="for copy: the theme file to make the site's own, e.g. templates/post.html")
    migrate = sub.add_parser("migrate", help="bring a site made with an older placard up to this version, file by file")
    migrate.add_argument("--dry-run", action="store_true", help="only list the changes")
    return parser


def program_name() -> str:
    """`placard` when run as the installed command, else the script's name (build.py)."""
    name = Path(sys.argv[0]).name
    return name if name in ("placard", "build.py") else "placard"


def print_summary(report: BuildReport, out=None) -> None:
    """Say what was built and what was held back, so nothing disappears silently."""
    out = out or sys.stdout
    if report.unchanged:
        print(f"Nothing changed since the last build: output/ already holds these {report.pages} pages ({report.files} files); checked in {report.milliseconds} ms.", file=out)
    else:
        print(f"Built {report.pages} pages ({report.files} files) into output/ in {report.milliseconds} ms.", file=out)
    site = report.summary
    print(f"  {site.posts} posts, {site.events} events, {site.pages} pages, {site.entities} entities with {site.ties} ties.", file=out)
    for note in report.notes:
        print(f"  Note: {note}", file=out)
    if site.held_back:
        print(f"  Held back {len(site.held_back)}:", file=out)
        for path, reason in site.held_back:
            print(f"    {path}: {reason}", file=out)


def print_problems(error: BuildError, out=None) -> None:
    """Print every problem, one per line, and what happened to output/."""
    out = out or sys.stderr
    for problem in error.problems:
        print(problem, file=out)
    count = len(error.problems)
    print(f"Build failed: {count} problem{'s' if count != 1 else ''}. output/ was not changed.", file=out)


def page_budget(project) -> int:
    """site.yml's page_budget_kb in bytes (the default if site.yml cannot be read: the build reports why)."""
    from .check import PAGE_BUDGET
    from .content import load_config

    try:
        return load_config(project.config_file).page_budget_kb * 1024
    except Exception:  # a broken site.yml is the build's to explain; the check still runs
        return PAGE_BUDGET


def run_check(folder: Path, offline: bool, out=None, budget: int | None = None) -> int:
    """Audit a built folder; print one line per finding and the page weights; 1 if anything is wrong."""
    from .check import PAGE_BUDGET, check_site

    out = out or sys.stdout
    if not folder.is_dir():
        print(f"{folder}: no built site here; run `python build.py` first", file=out)
        return 1
    findings, weights = check_site(folder, offline, label=folder.name, budget=budget or PAGE_BUDGET)
    for finding in findings:
        print(finding, file=out)
    print(weights.summary(), file=out)
    print(f"Check {'failed' if findings else 'passed'}: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {folder.name}/.", file=out)
    return 1 if findings else 0


def run_new_register_entry(project: Project, kind: str, words: list[str], entity_type: str) -> int:
    """`new entity "Name" --type company`, or `new tie SUBJECT RELATION OBJECT` (a tie with a source to fill in)."""
    from .scaffold import write_new_entity, write_new_tie

    if kind == "entity":
        path = write_new_entity(project.content, " ".join(words), entity_type)
        print(f"Wrote {path.relative_to(project.root).as_posix()} (a draft: remove 'draft: true' to publish).")
        return 0
    if len(words) != 3:
        print('new tie needs three words: SUBJECT RELATION OBJECT, e.g. build.py new tie richard-evans chairman-of samruk-kazyna', file=sys.stderr)
        return 2
    path, line = write_new_tie(project.content, *words)
    print(f"Added the tie to {path.relative_to(project.root).as_posix()}; write its source at line {line} (the build refuses it until then).")
    return 0


def run_init(folder: Path, languages: str, now: datetime) -> int:
    """Write a new site and say how to build it."""
    from .starter import parse_languages, write_new_site

    written = write_new_site(folder, parse_languages(languages), now)
    print(f"Wrote a new campaign site into {folder} ({len(written)} files). Next:\n"
          f"  cd {folder} && placard serve      (preview it while you edit the examples in content/)")
    return 0


def run_theme(project: Project, action: str, name: str | None) -> int:
    """`theme diff` (print how the site's overrides differ) or `theme copy NAME`."""
    from .theme_diff import copy_from_theme, diff_theme

    if action == "diff":
        sys.stdout.write(diff_theme(project.root, project.theme))
        return 0
    if not name:
        print("theme copy: name the file to copy, e.g. placard theme copy templates/post.html", file=sys.stderr)
        return 2
    target = copy_from_theme(project.root, project.theme, name)
    print(f"Wrote {target.relative_to(project.root).as_posix()}: the site's own now; change it, and see `placard theme diff` after upgrades.")
    return 0


def run_build(project: Project, now: datetime) -> BuildReport:
    """`build`: first the nothing-changed check, which imports nothing heavy (the stages, Jinja2,
    Python-Markdown, icalendar, Pillow...: 0.2 s), then, only if there is something to do, the build."""
    import time

    from .incremental.unchanged import unchanged_report

    started = time.perf_counter()
    inputs, report = unchanged_report(project, RenderOptions(), now, started)
    if report is not None:
        return report
    from .incremental.progress import progress_for
    from .pipeline import build

    return build(project, now, progress=progress_for(sys.stderr), checked=(inputs, started))


def main(argv: list[str] | None = None) -> int:
    """Run one command; content problems exit 1 with messages, never a traceback."""
    args = make_parser().parse_args(argv)
    project = Project(getattr(args, "root", Path.cwd()).resolve())
    given_now = getattr(args, "now", None)
    try:
        now = parse_now(given_now)
    except ValueError:
        print(f"--now: '{given_now}' is not a date and time; write it like 2011-12-20T09:00:00+00:00", file=sys.stderr)
        return 2
    try:
        if args.command == "new" and args.kind in ("entity", "tie"):
            return run_new_register_entry(project, args.kind, args.title, args.type)
        if args.command == "new":
            from .scaffold import write_new_item

            path = write_new_item(project.content, args.kind, " ".join(args.title), now, args.lang, args.translates)
            print(f"Wrote {path.relative_to(project.root).as_posix()} (a draft: remove 'draft: true' to publish).")
            return 0
        if args.command == "init":
            return run_init(args.folder, args.languages, now)
        if args.command == "theme":
            return run_theme(project, args.action, args.name)
        if args.command == "migrate":
            from .migrate import run_migration

            return run_migration(project.root, project.theme, args.dry_run, sys.stdout)
        if args.command == "serve":
            from .serve import serve

            return serve(project, host=args.host, port=args.port, open_browser=args.open, read_only=args.read_only, clock=(lambda: now) if given_now else None)
        if args.command == "check":
            return run_check(args.dir or project.output, args.offline, budget=page_budget(project))
        if args.command == "zip":
            from .archive import write_archive

            zip_path, sum_path = write_archive(project, now)
            print(f"Wrote {zip_path} and {sum_path.name}: unzip it and open index.html, no web server needed.")
            return 0
        print_summary(run_build(project, now))
        return 0
    except BuildError as error:
        print_problems(error)
        return 1
    except BrokenPipeError:  # the reader of our output went away (build.py | head): the work itself is done
        sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as error:
        where = error.filename or project.output
        print(f"{where}: could not write the site: {error.strerror or error}. output/ was not changed "
              "(check the disk has space and the folder is writable).", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted. output/ was not changed.", file=sys.stderr)
        return 130
