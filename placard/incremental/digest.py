"""Digests: what the cache keys every layer on (values through pickle, items once per build, the code)."""

from __future__ import annotations

import copyreg
import hashlib
import io
import pickle
from types import MappingProxyType
from collections.abc import Iterator, Mapping
from typing import Any

from ..models import Entity, Event, Page, Post
from .basis import code_version, normal_name  # noqa: F401 (moved there, to be imported without the models)


def digest_bytes(*parts: bytes) -> bytes:
    """A 20-byte BLAKE2b digest of the parts, each length-prefixed so boundaries count."""
    return hashlib.blake2b(b"".join([len(part).to_bytes(8, "little") + part for part in parts]), digest_size=20).digest()


def digest_text(text: str) -> bytes:
    """Digest of a string (a Markdown body, a path)."""
    return digest_bytes(text.encode("utf-8", "surrogatepass"))


def digest_texts(texts: dict[str, str], memo: dict[int, tuple[str, bytes]] | None = None) -> dict[str, bytes]:
    """digest_text of each value; with a memo (the preview's, between rebuilds), a string digested last
    time (the very same object, kept alive by the memo) is not read again. The memo keeps this call's."""
    if memo is None:
        return {key: digest_text(text) for key, text in texts.items()}
    known, digests = dict(memo), {}
    memo.clear()
    for key, text in texts.items():
        hit = known.get(id(text))
        digest = hit[1] if hit is not None and hit[0] is text else digest_text(text)
        digests[key] = digest
        memo[id(text)] = (text, digest)
    return digests


class _HashWriter:
    """A file-like sink that hashes what pickle writes instead of keeping it."""

    def __init__(self) -> None:
        self.hash = hashlib.blake2b(digest_size=20)

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)


class _Pickler(pickle.Pickler):
    """pickle that also takes read-only mappings (the site index), as the dicts they show."""

    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda m: (dict, (dict(m),))


ITEM_CLASSES = frozenset({Post, Event, Page, Entity})


def digest_value(value: Any) -> bytes | None:
    """Digest of a value through pickle (equal pickles mean equal values); None if it cannot be pickled."""
    sink = _HashWriter()
    try:
        _Pickler(sink, protocol=5).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return sink.hash.digest()


class Digester:
    """Digests of values that name content items, each item digested once per build (items are frozen)."""

    def __init__(self, known: dict[int, tuple[Any, bytes]] | None = None) -> None:
        self.items: dict[int, tuple[Any, bytes]] = dict(known or {})  # e.g. the cache keys of loaded items

    def item(self, obj: Any) -> bytes:
        """An item's digest: its cache key if it was loaded from the cache, else the digest of its pickle."""
        hit = self.items.get(id(obj))
        if hit is None or hit[0] is not obj:
            try:  # items hold only plain values: the C pickler needs no hooks
                hit = self.items[id(obj)] = (obj, digest_bytes(pickle.dumps(obj, protocol=5)))
            except (pickle.PicklingError, TypeError, AttributeError):
                raise pickle.PicklingError("an item that cannot be digested") from None
        return hit[1]

    def of(self, value: Any) -> bytes | None:
        """Digest of a page's variables or a site attribute: its page_recipe pickle, and the digests of
        the items it names (so a list of 10,000 posts costs 10,000 look-ups once each is digested)."""
        try:
            blob, named = page_recipe(value)
            return digest_bytes(blob, b"".join([self.item(item) for item in named]))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return None


class PageContext(Mapping):
    """A page's variables, kept as a pickle in which content items stand as their file's path
    (see page_recipe), with the paths it names (`refs`, in order); unpickled, against this build's
    items, only when the page is rendered."""

    __slots__ = ("blob", "refs", "kept", "_items", "_value")

    def __init__(self, blob: bytes, refs: tuple, items: Mapping[str, Any], value: dict | None = None, kept: bool = False) -> None:
        self.blob, self.refs, self._items, self._value = blob, refs, items, value
        self.kept = kept  # from the last build's plan, kept unchanged (see placard.incremental.plan_memo)

    @property
    def item_map(self) -> Mapping[str, Any]:
        """The items (by file) its references resolve to."""
        return self._items

    def against(self, items: Mapping[str, Any]) -> "PageContext":
        """The same variables, their references resolved to these items (the preview's early pages: placard.incremental.early)."""
        return PageContext(self.blob, self.refs, items, kept=self.kept)

    def value(self) -> dict:
        if self._value is None:
            self._value = _ItemUnpickler(io.BytesIO(self.blob), self._items).load()
        return self._value

    def __getitem__(self, name: str) -> Any:
        return self.value()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.value())

    def __len__(self) -> int:
        return len(self.value())


def page_recipe(context: Any, paths: dict[int, str] | None = None) -> tuple[bytes, tuple]:
    """A page's variables as a pickle in which each content item stands as its file's path (from
    `paths`; else its position among the page's items), and the items it names, in order: a page's
    key is the pickle and those items' keys (equal pickles mean equal values)."""
    sink = io.BytesIO()
    pickler = _ItemPickler(sink, paths or {})
    pickler.dump(context)
    return sink.getvalue(), tuple(pickler.refs)


def _item_at(path: str) -> None:
    """Stands for an item in a PageContext pickle (the unpickler resolves it; never called)."""
    raise AssertionError("resolved by _ItemUnpickler")


class _ItemPickler(pickle.Pickler):
    """Pickles a page's variables with each content item as a reference to its file's path (or,
    for an item that is not the site's, its position among the page's items: such a plan is not kept)."""

    def __init__(self, file: Any, paths: dict[int, str]) -> None:
        super().__init__(file, protocol=5)
        refs: list = []
        self.refs = refs

        def reduce_item(item: Any) -> tuple:  # (not a bound method: the pickler would be in a cycle, garbage
            refs.append(item)                 # only the cyclic collector frees, 40 MB at 10,000 posts)
            return _item_at, (paths.get(id(item), len(refs)),)  # pickle keeps each object once: an item is reduced once per page

        self.dispatch_table = _Pickler.dispatch_table | {kind: reduce_item for kind in ITEM_CLASSES}


class _ItemUnpickler(pickle.Unpickler):
    """Reads a PageContext pickle, each reference becoming this build's item."""

    def __init__(self, file: Any, items: Mapping[str, Any]) -> None:
        super().__init__(file)
        self.items = items

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_item_at":
            return self.items.__getitem__
        return super().find_class(module, name)
