"""Sessions: how one build runs the stages. pipeline.build_site calls the same seven steps on either.

PlainSession runs every stage directly, here, from scratch: tests, small sites, and the reference
that the incremental session must equal byte for byte. IncrementalSession does the same work
through the cache (placard.incremental.store): unchanged files are not parsed again, converted
bodies are reused, the last plan is kept when it still holds, pages whose every input is
unchanged are not rendered, and the rest is spread over worker processes. No stage module knows
about any of it: this package imports the stages, never the other way round.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time as systime
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import jinja2

from ..catalogue import required_messages, template_signature
from ..content import TranslationStub, load_site, make_inside_check, parse_chunk, parse_files
from ..derivatives import ImagePlan, find_image_refs, may_show_image, make_derivatives, plan_image, plan_site_images
from ..share_cards import CardRequest, draw_share_card
from ..errors import Problems
from ..index import SiteIndex
from ..markup import body_problems, body_sources, check_refs, convert_bodies, pending_refs
from ..models import Site, SiteConfig
from ..output import KEPT, Made, Output, Staged, write_staged
from ..pages import PageSpec, plan_site
from ..render import RenderInputs, render_pages
from ..search import SHARD_PAGES, Subset, build_search_index, build_shards, join_shards, name_shards, plan_shards
from ..templating import make_environment
from .basis import RACY_SECONDS
from .bodies import Bodies
from .digest import digest_value
from .early import LastGood, render_early
from .priority import Priority
from .progress import NoProgress, Progress
from .parallel import render_site
from .plan_memo import plan_kept
from .store import Store, file_signature
from .tracing import TracingContext, TracingEnvironment
from .workers import WORKERS, can_fork, fork_map


class PlainSession:
    """Every stage, directly. `search_shard_pages`: how many pages of a language one shard of the search index
    holds (search.SHARD_PAGES; smaller in tests); `search_indexer`: what builds one shard (search.build_search_index)."""

    def __init__(self, search_shard_pages: int = SHARD_PAGES, search_indexer=build_search_index) -> None:
        self.search_shard_pages, self.search_indexer = search_shard_pages, search_indexer

    def load_site(self, project, config: SiteConfig, now, preview: bool) -> Site:
        return load_site(project.root, project.content, config, now, preview)

    def messages(self, project) -> dict[str, str]:
        return required_messages(project.template_layers)

    def bodies(self, site: Site, index: SiteIndex) -> dict[str, str]:
        return convert_bodies(site, index.targets)

    def body_problems(self, site: Site) -> list:
        return body_problems(body_sources(site))

    def environment(self, project) -> jinja2.Environment:
        return make_environment(project.template_layers, project.static_layers)

    def plan(self, site: Site, catalogues, index: SiteIndex) -> list[PageSpec]:
        return plan_site(site, catalogues, index)

    def search_index(self, pages: Mapping[str, bytes], languages: Mapping[str, str]) -> dict[str, bytes]:
        return build_shards(pages, languages, self.search_shard_pages, self.search_indexer)

    def render(self, inputs: RenderInputs, specs: list[PageSpec]) -> Output:
        return render_pages(inputs, specs)

    def images(self, project, site: Site) -> ImagePlan:
        return plan_site_images(project.root, project.content, site, make_inside_check(project.root))

    def derivatives(self, project, plan: ImagePlan) -> dict[str, bytes]:
        return {path: data for image in plan.images.values() for path, data in make_derivatives(read_source(project, image), image).items()}

    def share_cards(self, project, cards: list[CardRequest]) -> dict[str, bytes]:
        return {card.path: draw_card((project, card)) for card in cards}

    def keep(self, site: Site, output: Output) -> None:
        """Nothing to keep."""


EAGER_BODIES = 100  # up to this many bodies to convert: here and now; more: by the render workers, on every core


class IncrementalSession:
    """The stages through a store (SqliteStore for build.py, MemoryStore for the preview).

    With `out_dir` and `staging` (build.py), pages rendered by worker processes are written into
    `staging`, the folder that becomes the new output/, and pages unchanged in `out_dir` stay as they are.
    `search_shard_pages` and `search_indexer`: as PlainSession's."""

    def __init__(self, store: Store, out_dir: Path | None = None, staging: Path | None = None,
                 bytecode_cache: jinja2.BytecodeCache | None = None, progress: Progress | None = None,
                 priority: Priority | None = None, search_shard_pages: int = SHARD_PAGES,
                 search_indexer=build_search_index) -> None:
        self.store, self.out_dir, self.staging, self.bytecode_cache = store, out_dir, staging, bytecode_cache
        self.search_shard_pages, self.search_indexer = search_shard_pages, search_indexer
        self.progress = progress or NoProgress()
        self.priority = priority  # the preview's: which pages to render first (priority.py)
        self.converted: Bodies | None = None
        self.used_memos: set[str] = set()  # this build's memos of PRUNED_MEMOS' kinds: the others are pruned by keep()
        self.made: dict[str, tuple[dict, list[str]]] = {}  # this build's files_in_output that changed, by kind (its groups, and those made): noted by record_written
        self.rendered: LastGood | None = None  # the preview's: what this build rendered from
        self.last_good: LastGood | None = None  # ... and the last good build's (early.py)

    def load_site(self, project, config: SiteConfig, now, preview: bool) -> Site:
        """Files unchanged since they were cached (same bytes, same site.yml) are not parsed again."""
        config_key = digest_value(config)
        self.used_memos, self.made = set(), {}  # (a build starts here)

        def read_items(wanted: list[tuple[str, str, str]], config: SiteConfig) -> dict[str, tuple[Any, list]]:
            keys = {display: file_key(display, file, config_key) for display, _kind, file in wanted} if config_key else {}
            cached = self.store.get_items({path: key for path, key in keys.items() if key is not None}) if keys else {}
            parsed = parse_on_workers([entry for entry in wanted if entry[0] not in cached], config, self.progress)
            fresh = [(display, keys[display], item) for display, (item, found) in parsed.items()
                     if keys.get(display) is not None and item is not None and not found and not isinstance(item, TranslationStub)]
            self.store.put_items(fresh)
            return {display: (cached[display], []) if display in cached else parsed[display] for display, _kind, _file in wanted}

        return load_site(project.root, project.content, config, now, preview, read_items)

    def messages(self, project) -> dict[str, str]:
        """The messages templates and code use; extracting them parses every template, so they are kept,
        keyed on the template files (placard's own code is part of the cache's version)."""
        key = digest_value(template_signature(project.template_layers))
        found = self.store.get_memo("messages", key)
        if found is None:
            found = required_messages(project.template_layers)
            self.store.put_memo("messages", key, found)
        return found

    def bodies(self, site: Site, index: SiteIndex) -> Bodies:
        """Every body, from the cache where converted before; the others converted now if they are few,
        else where their page renders (render_site reports their problems)."""
        problems, pending = Problems(), pending_refs(site)
        for item in site.items():
            check_refs(item, index.targets, problems, pending=pending)
        bodies = self.converted = Bodies(body_sources(site), self.store)
        missing = bodies.missing()
        if len(missing) <= EAGER_BODIES:
            for key in missing:
                bodies.convert(key)
            problems.items.extend(bodies.problems())
        problems.raise_if_any()
        return bodies

    def body_problems(self, site: Site) -> list:
        """Every problem in the bodies (a failed build's report): those converted before had none."""
        bodies = Bodies(body_sources(site), self.store)
        for key in bodies.missing():
            bodies.convert(key)
        return bodies.problems()

    def environment(self, project) -> jinja2.Environment:
        """The templates, compiled by earlier builds where unchanged, noting what each page reads (tracing)."""
        env = make_environment(project.template_layers, project.static_layers, self.bytecode_cache, TracingEnvironment)
        env.context_class = TracingContext
        return env

    def plan(self, site: Site, catalogues, index: SiteIndex) -> list[PageSpec]:
        return plan_kept(site, catalogues, index, self.store)

    def search_index(self, pages: Mapping[str, bytes], languages: Mapping[str, str]) -> dict[str, Made]:
        """The search index, shard by shard (search.plan_shards): a shard none of whose pages changed is the last
        build's (Pagefind's bundle does not update in part: a shard with a changed page is indexed again, alone).
        A page output/ keeps as the last build wrote it is not read again: its digest is the one noted then.
        The shards to index run two at a time (one Pagefind keeps 1.2 of the two cores busy), each over its last
        bundle: Pagefind writes (and compresses) only the files that are new (search.reused_bundle). build.py's
        bundles are files in output/ (files_in_output); the preview's, memos."""
        shards = plan_shards(languages, self.search_shard_pages)
        last = self.store.get_memo(SEARCH_PAGES, SEARCH_PAGES_KEY) or {}
        is_kept = getattr(pages, "is_kept", lambda path: False)  # (the preview's pages are in memory)
        digests: dict[str, bytes] = {}
        keys = {}
        for shard in shards:
            h = hashlib.blake2b(shard.folder.encode("utf-8") + b"\0", digest_size=20)
            if shard is shards[0]:  # its engine's script names the others (search.name_shards)
                h.update(repr([(other.folder, other.languages) for other in shards[1:]]).encode("utf-8", "surrogatepass"))
            for path in shard.paths:
                digest = last.get(path) if is_kept(path) else None
                digests[path] = digest = digest or hashlib.blake2b(pages[path], digest_size=20).digest()
                h.update(f"{path}\0".encode("utf-8", "surrogatepass") + digest)
            keys[shard.folder] = h.digest()
        self.store.put_memo(SEARCH_PAGES, SEARCH_PAGES_KEY, digests)
        tasks = {shard.folder: (keys[shard.folder], (self.search_indexer, shard, Subset(pages, shard.paths), shards)) for shard in shards}
        if self.staging is not None:
            return self.files_in_output("search shards", tasks, index_shard_staged, None, on_threads)
        bundles, todo = {}, []
        for folder, (key, task) in tasks.items():
            name = self.memo("search shard " + folder)
            found = self.store.get_memo(name, key)
            if found is None:
                todo.append((name, key, task, self.store.last_memo(name)))  # (the store is read here, never in the threads)
            else:
                bundles[folder] = found
        for (name, key, task, _), found in zip(todo, on_threads(index_shard, [(task, previous) for name, key, task, previous in todo])):
            self.store.put_memo(name, key, found)
            bundles[task[1].folder] = found
        return join_shards(shards, bundles)

    def render_early(self, project) -> dict[str, bytes]:
        """The preview: the browsers' pages as the files saved since the last good build make them over it (early.py;
        called before a rebuild, and by the server from another thread when a save comes during one)."""
        last = self.last_good
        if self.priority is None or last is None:
            return {}
        return render_early(last, project.root, self.priority.changed(), self.priority.wanted())

    def render(self, inputs: RenderInputs, specs: list[PageSpec]) -> Output:
        if self.priority is not None:
            self.rendered = LastGood(inputs, {spec.path: spec for spec in specs})
        previous = self.store.get_pages(self.out_dir if self.staging is not None else None)
        return render_site(inputs, specs, self.store, previous, self.staging, self.progress, self.priority)

    def images(self, project, site: Site) -> ImagePlan:
        """The photos bodies show; a file unchanged since the last build (same path, size, times, inode)
        is not read again: its plan (size, digest) comes from the store."""
        inside = make_inside_check(project.root)
        config_key = digest_value((site.config.max_image_mb, "images"))

        def plan_cached(path: str, data: bytes, modern, max_bytes: int):
            key = file_key(path, str(project.content / path), config_key + repr(modern).encode())
            found = self.store.get_memo(self.memo("image " + path), key) if key is not None else None  # (one memo per name)
            if found is None:
                found = plan_image(path, data(), modern, max_bytes)
                if key is not None:
                    self.store.put_memo("image " + path, key, found)
            return found

        def find_cached(path: str, text: str, first_line: int) -> list:
            if not may_show_image(text):  # (find_image_refs' own shortcut: no memo for most bodies)
                return []
            key = digest_value((text, first_line))
            found = self.store.get_memo(self.memo("image refs " + path + f":{first_line}"), key)
            if found is None:
                found = find_image_refs(path, text, first_line)  # (a conversion of the body: kept while its text is unchanged)
                self.store.put_memo("image refs " + path + f":{first_line}", key, found)
            return found

        return plan_site_images(project.root, project.content, site, inside, plan_cached, find_cached)

    def derivatives(self, project, plan: ImagePlan) -> dict[str, Made]:
        """Every photo's derivatives, from the store by the photo's digest; the missing ones made on the workers.
        (build.py: kept in output/, see files_in_output.)"""
        if self.staging is not None:
            return self.files_in_output("derivatives", {image.path: (derivative_key(image), image) for image in plan.images.values()},
                                        derive_one_staged, project)
        made: dict[str, bytes] = {}
        missing = []
        for image in plan.images.values():
            found = self.store.get_memo(self.memo("derivatives " + image.path), derivative_key(image))  # (the store keeps one value per name)
            if found is None:
                missing.append(image)
            else:
                made.update(found)
        for image, files in zip(missing, on_workers(derive_one, [(project, image) for image in missing])):
            self.store.put_memo("derivatives " + image.path, derivative_key(image), files)
            made.update(files)
        return made

    def share_cards(self, project, cards: list[CardRequest]) -> dict[str, Made]:
        """Every card, from the store by what it shows (the photo by its digest); the missing ones drawn on the workers.
        (build.py: kept in output/, see files_in_output.)"""
        if self.staging is not None:
            return self.files_in_output("share cards", {card.path: (card_key(card), card) for card in cards}, draw_card_staged, project)
        made: dict[str, bytes] = {}
        missing = []
        for card in cards:
            found = self.store.get_memo(self.memo("share card " + card.path), card_key(card))
            if found is None:
                missing.append(card)
            else:
                made[card.path] = found
        for card, data in zip(missing, on_workers(draw_card, [(project, card) for card in missing])):
            self.store.put_memo("share card " + card.path, card_key(card), data)
            made[card.path] = data
        return made

    def files_in_output(self, kind: str, groups: dict[str, tuple[bytes, Any]], make, project, spread=None) -> dict[str, Made]:
        """Files made beside the pages (share cards, a photo's copies), handled as pages are: a group (one card,
        one photo's copies) whose inputs have the same key as last build's, and whose files output/ still holds
        as written then (size, mtime, inode), stays there unread; the others are made on the workers, straight
        into the staging folder. Neither passes through this process's memory (10,000 cards are 200 MB) or
        the store (which notes only keys and signatures, in one memo per kind). `make` gets the project, the
        group's task, the staging folder and what the last build left of the group in output/ (each file's
        path in the site, in output/, and its signature then); `spread` runs it over the groups (on_workers, else on_threads)."""
        last = self.store.get_memo(MADE_FILES + kind, MADE_FILES_KEY) or {}
        base = str(self.out_dir.resolve()) + os.sep
        files: dict[str, Made] = {}
        noted: dict[str, tuple[bytes, tuple]] = {}
        todo: list[tuple[str, bytes, Any, tuple]] = []
        for group, (key, task) in groups.items():
            before = last.get(group)
            if before is not None and before[0] == key and all(sig is not None and file_signature(base + path) == sig for path, sig in before[1]):
                files.update((path, KEPT) for path, _ in before[1])
                noted[group] = before
            else:
                todo.append((group, key, task, tuple((path, base + path, sig) for path, sig in before[1]) if before is not None else ()))
        spread = spread or on_workers
        for (group, key, _, _), staged in zip(todo, spread(make, [(project, task, self.staging, previous) for _, _, task, previous in todo])):
            files.update(staged)
            noted[group] = (key, tuple((path, None) for path in staged))  # (signed by record_written, once in output/)
        if todo or len(noted) != len(last):  # (else the memo stays as it is: all 10,000 cards of an edit, say)
            self.made[kind] = (noted, [group for group, _, _, _ in todo])
        return files

    def keep(self, site: Site, output: Output) -> None:
        """After a good build: forget cache entries it did not use, and commit the rest at once."""
        self.last_good, self.rendered = self.rendered or self.last_good, None
        digests = set(self.converted.digests.values()) if self.converted is not None else set()
        try:
            self.store.prune({item.origin.path for item in site.items()} | {held.path for held in site.held_back}, digests, output.paths())
            self.store.prune_memos(PRUNED_MEMOS, self.used_memos)
            self.store.commit()
        except Exception:  # the cache only saves time: a build never fails because of it
            pass

    def memo(self, name: str) -> str:
        """A memo's name, noted as used by this build (keep() prunes the unused ones of PRUNED_MEMOS' kinds)."""
        self.used_memos.add(name)
        return name

    def rollback(self) -> None:
        """After a failed build (the preview's store): the next build starts from the last good one."""
        self.rendered = None
        self.store.rollback()

    def take_output_list(self) -> set[str] | None:
        """The files the last build left in output/, if the cache knows; forgotten (durably) before output/
        changes, so a build interrupted while writing leaves no stale list for the next one to trust."""
        try:
            known = self.store.get_memo("output", OUTPUT_MEMO)
            if known is not None:
                self.store.put_memo("output", OUTPUT_MEMO, None)
                self.store.commit()
            return known
        except Exception:  # the cache only saves time
            return None

    def record_written(self, output: Output, out_dir: Path) -> None:
        """After output/ was written: note each rendered page's file there, so the next build can keep it."""
        base = str(out_dir.resolve()) + os.sep
        try:
            self.store.record_written({path: file_signature(base + path) for path in [*output.files, *output.staged]})
            for kind, (groups, made) in self.made.items():  # (files_in_output's: the files just made are signed as they are now)
                for group in made:
                    key, files = groups[group]
                    groups[group] = (key, tuple((path, file_signature(base + path)) for path, _ in files))
                self.store.put_memo(MADE_FILES + kind, MADE_FILES_KEY, groups)
            self.store.put_memo("output", OUTPUT_MEMO, output.paths())  # what output/ holds now: the next build need not walk it
            self.store.commit()
        except Exception:  # the cache only saves time
            pass

    def close(self) -> None:
        self.store.close()


Session = PlainSession | IncrementalSession

OUTPUT_MEMO = b"files in output/"
SEARCH_PAGES, SEARCH_PAGES_KEY = "search pages", b"path -> digest of the page as indexed"  # search_index's
MADE_FILES, MADE_FILES_KEY = "files made: ", b"group -> (key, ((path, signature), ...))"  # files_in_output's memos, one per kind
PRUNED_MEMOS = ("image ", "derivatives ", "share card ", "search shard ")  # one memo per photo, body or card: "image " covers "image refs " too


def file_key(display: str, file: str, config_key: bytes) -> bytes | None:
    """A content file's cache key: its path, size, modification and change times, inode, and site.yml.

    Any write to a file changes its change time (which, unlike the modification time, cannot be set
    back), so an unchanged key means unchanged bytes, without reading 10,000 files to find the one edited.
    A file changed in the last RACY_SECONDS gets no key (it is parsed, not cached): file times are
    coarse, and a second edit within the same tick, of the same size, would otherwise look unchanged
    (git's "racy clean" problem)."""
    try:
        info = os.stat(file)
    except OSError:
        return None
    if info.st_ctime >= systime.time() - RACY_SECONDS:  # the real clock: it only decides what to cache, never the output
        return None
    signature = f"{display}\0{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}\0"  # the path has no NUL
    return hashlib.blake2b(signature.encode("utf-8", "surrogatepass") + config_key, digest_size=20).digest()


def read_source(project, image) -> bytes:
    """A planned photo's bytes (plan_site_images checked it is a file inside the project)."""
    return (project.content / image.path).read_bytes()


def derivative_key(image) -> bytes:
    """What a photo's derivatives are made from: its bytes (by digest), widths, formats and size."""
    return digest_value(repr(image).encode())


def derive_one(task: tuple) -> dict[str, bytes]:
    project, image = task
    return make_derivatives(read_source(project, image), image)


def draw_card(task: tuple) -> bytes:
    project, card = task
    return draw_share_card(card, read_source(project, card.photo) if card.photo is not None else None)


def card_key(card: CardRequest) -> bytes:
    """What a card shows, as a cache key (its photo by its digest: SourceImage's repr)."""
    return digest_value(repr(card).encode())


def derive_one_staged(task: tuple) -> dict[str, Staged]:
    """A photo's derivatives, written into the staging folder (files_in_output)."""
    project, image, staging, _ = task
    return {path: write_staged(staging, path, data) for path, data in derive_one((project, image)).items()}


def draw_card_staged(task: tuple) -> dict[str, Staged]:
    """A card, written into the staging folder (files_in_output)."""
    project, card, staging, _ = task
    return {card.path: write_staged(staging, card.path, draw_card((project, card)))}


def index_shard(job: tuple) -> dict[str, bytes]:
    """One shard's bundle, by the session's indexer, over `reuse` (its last bundle's files; search.reused_bundle)."""
    (indexer, shard, pages, _shards), reuse = job
    return indexer(pages, shard.folder, reuse)


def index_shard_staged(task: tuple) -> dict[str, Made]:
    """One shard's bundle, over the files the last build left of it in output/ that are still as written then;
    those of them the new bundle has as they are stay there (KEPT), the others are written into the staging
    folder (files_in_output). Writing all 1,285 files of a shard cost an edit 0.8 s more of system time on
    this machine's ext4, which creates a file slowly just after many were deleted (see docs/performance.md)."""
    _, job, staging, previous = task
    reuse = {}
    for path, file, sig in previous:
        if sig is not None and file_signature(file) == sig:
            with open(file, "rb") as handle:
                reuse[path] = handle.read()
    shard, shards = job[1], job[3]
    files = index_shard((job, reuse))
    if shard is shards[0]:  # its engine names the others (as join_shards does for bundles joined in memory)
        files = name_shards(files, shards)
    return {path: KEPT if reuse.get(path) == data else write_staged(staging, path, data) for path, data in files.items()}


def on_threads(function, tasks: list) -> list:
    """`function` over `tasks` (the search shards to index: each runs Pagefind), two at a time, in this process."""
    if len(tasks) < 2:
        return [function(task) for task in tasks]
    with ThreadPoolExecutor(WORKERS) as threads:  # (Pagefind's own processes: nothing shared, nothing forked)
        return list(threads.map(function, tasks))


def on_workers(function, tasks: list) -> list:
    """`function` over `tasks` (photos to derive, cards to draw), on forked workers when there are several."""
    if len(tasks) < 2 or not can_fork():
        return [function(task) for task in tasks]
    done: list = []
    # In chunks: one future per card cost the main process 1.9 s of 10,000 cards' 31 s (pickling, queueing),
    # CPU taken from the two workers; a few chunks per worker keep them both busy to the end.
    size = max(1, min(WORKER_CHUNK, len(tasks) // (4 * WORKERS)))
    try:
        for results in fork_map(functools.partial(apply_each, function), [tasks[at:at + size] for at in range(0, len(tasks), size)]):
            done.extend(results)
    except BrokenProcessPool:  # a worker died: do the rest here
        done.extend(function(task) for task in tasks[len(done):])
    return done


WORKER_CHUNK = 48  # tasks (cards, photos) sent to a worker at once


def apply_each(function, tasks: list) -> list:
    """`function` over a chunk of on_workers' tasks, on a worker."""
    return [function(task) for task in tasks]


PARSE_POOL_MIN = 500  # fewer files parse faster here than two workers start


def parse_on_workers(files: list[tuple[str, str, str]], config: SiteConfig, progress: Progress | None = None) -> dict[str, tuple[Any, list]]:
    """content.parse_files, on forked workers when there are many files."""
    if len(files) < PARSE_POOL_MIN or not can_fork():
        return parse_files(files, config)
    progress = progress or NoProgress()
    progress.start("reading content", len(files))
    chunks = [(files[start:start + 200], config) for start in range(0, len(files), 200)]
    parsed: dict[str, tuple[Any, list]] = {}
    try:
        for results in fork_map(parse_chunk, chunks):
            parsed.update(results)
            progress.advance(len(results))
    except BrokenProcessPool:  # a worker died: parse here what is missing
        parsed.update(parse_files([f for f in files if f[0] not in parsed], config))
    finally:
        progress.finish()
    return parsed
