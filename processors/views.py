"""Typed views over faust tables: the pure core sees mappings of models, never bytes or faust.

Table keys and values are raw bytes: one JSON document per key, stored compressed
(processors/state_codec.py), so a table write costs one encode and one compression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel

from deskwatch.processors.encode import encode
from deskwatch.processors.fields_set import share_nested
from deskwatch.processors.state_codec import pack, unpack
from deskwatch.settings import ProcessorSettings

M = TypeVar("M", bound=BaseModel)
# write(table, the key whose partition it goes to, [(key, value or None), ...]): one table key's
# records for the table's changelog, which must land together (``Outbox.write_state``)
WriteState = Callable[[Any, bytes, list[tuple[bytes, bytes | None]]], None]

# Decoded values a table keeps by default: the setting's default (deskwatch/settings.py says why).
CACHE_MAX: Final[int] = ProcessorSettings.model_fields["state_cache_max"].default


class ModelTable(Generic[M]):
    """A faust Table (bytes → bytes) seen as ``str → model``; decoded values are cached per key.

    The cache holds the last value this worker wrote or read for a key, the ``cache_max`` most
    recently used ones; a rebalance clears it (``forget``), since another worker may have written
    the key meanwhile. Writes are staged (``stage``) and written once per key at the end of a
    batch (``flush``): a key changed by ten records of a batch costs one changelog record, not
    ten. Keys are evicted only at the end of a flush, so a batch's keys stay cached through it (a
    subclass's flush compares a key's new value with its cached one).
    """

    def __init__(self, table: Any, model: type[M], cache_max: int = CACHE_MAX,
                 cache_max_bytes: int | None = None, weigh: Callable[[M], int] | None = None) -> None:
        """``weigh`` estimates a decoded value's bytes; given with ``cache_max_bytes``, the cache
        also keeps its values' estimated bytes under that bound (the least recently used go)."""
        self._table = table
        self._model = model
        self._cache: dict[str, M] = {}  # in order of use: the least recently used first
        self._cache_max = cache_max
        self._staged: dict[str, M] = {}
        self._weigh = weigh if cache_max_bytes is not None else None
        self._cache_max_bytes = cache_max_bytes or 0
        self._weights: dict[str, int] = {}  # key -> its cached value's weight, when weighed
        self._cache_bytes = 0

    def get(self, key: str) -> M | None:
        staged = self._staged.get(key)
        if staged is not None:
            return staged
        cached = self._cache.pop(key, None)
        if cached is None:
            cached = self._read(key)
            if cached is None:
                return None
            if self._weigh is not None:
                self._weighed(key, cached)
        self._cache[key] = cached  # now the most recently used
        return cached

    def peek(self, key: str) -> M | None:
        """As ``get``, without making ``key`` the most recently used or caching it: for a walk over
        many keys, which would otherwise evict the ones in use."""
        staged = self._staged.get(key)
        if staged is not None:
            return staged
        cached = self._cache.get(key)
        return cached if cached is not None else self._read(key)

    def _read(self, key: str) -> M | None:
        """The key's value in the table's store, decoded; None when the store has none."""
        # The table's store, as flush writes it: faust's own get adds a sensor call per read and
        # raises and catches a KeyError for every key it does not hold (every new host).
        raw = self._table.data.get(key.encode())
        return None if raw is None else self._decode(raw)

    def _decode(self, raw: bytes) -> M:
        value = self._model.model_validate_json(unpack(raw))
        share_nested(value)  # a decoded state's frozen models share their fields sets
        return value

    def stage(self, key: str, value: M) -> None:
        """Remember a new value; ``get`` sees it at once, the table at the next ``flush``."""
        self._staged[key] = value

    def flush(self, write: WriteState) -> int:
        """Write every staged value once, in staging order: into the table's store, and as a
        changelog record handed to ``write(table, key, [(key, value)])``. Returns the keys written.

        The changelog record goes out with the batch's other outputs (one producer, flushed
        before the commit; see processors/outbox.py) rather than through faust's per-write
        buffer, which sends one record per task step and made commits take seconds under load.
        """
        staged, self._staged = self._staged, {}
        table = self._table
        store = table.data
        for key, value in staged.items():
            k, raw = key.encode(), pack(encode(value))
            store[k] = raw
            write(table, k, [(k, raw)])
            self._remember(key, value)
        self._evict()
        return len(staged)

    def _remember(self, key: str, value: M) -> None:
        if self._cache.pop(key, None) is not value and self._weigh is not None:
            self._weighed(key, value)
        self._cache[key] = value

    def _weighed(self, key: str, value: M) -> None:
        """Count ``value``'s weight as ``key``'s, in place of what it weighed before."""
        assert self._weigh is not None
        weight = self._weigh(value)
        self._cache_bytes += weight - self._weights.get(key, 0)
        self._weights[key] = weight

    def _evict(self) -> None:
        """Drop the least recently used keys beyond ``cache_max``, then, when weighed, while the
        cache's estimated bytes exceed ``cache_max_bytes``."""
        cache, over = self._cache, len(self._cache) - self._cache_max
        if over > 0:
            for key in list(islice(cache, over)):
                del cache[key]
                self._cache_bytes -= self._weights.pop(key, 0)
        if self._weigh is not None:
            weights = self._weights
            while self._cache_bytes > self._cache_max_bytes and cache:
                key = next(iter(cache))
                del cache[key]
                self._cache_bytes -= weights.pop(key, 0)

    @property
    def staged(self) -> int:
        """How many keys are staged, not yet written."""
        return len(self._staged)

    @property
    def cached(self) -> tuple[int, int]:
        """How many decoded values the cache holds, and their estimated bytes (0 when unweighed)."""
        return len(self._cache), self._cache_bytes

    def keys(self) -> Iterator[str]:
        """Every key in the table, and the staged ones not written yet."""
        store = self._table.data  # the table's store, as _read and flush use it
        written = [k.decode() for k in list(store.keys())]
        return iter(written + [k for k in self._staged if k.encode() not in store])

    def forget(self) -> None:
        self._cache.clear()
        self._weights.clear()
        self._cache_bytes = 0
        self._staged.clear()


class DecodedMapping(Mapping[str, M]):
    """A read-only ``str → model`` view of a ``bytes → bytes`` mapping, decoding each value once."""

    def __init__(self, table: Any, model: type[M]) -> None:
        self._table = table
        self._model = model
        self._cache: dict[bytes, tuple[bytes, M]] = {}

    def __getitem__(self, key: str) -> M:
        k = key.encode()
        raw = self._table.get(k)
        if raw is None:
            raise KeyError(key)
        cached = self._cache.get(k)
        if cached is not None and cached[0] == raw:
            return cached[1]
        value = self._model.model_validate_json(raw)
        share_nested(value)  # an inventory of 100k assets: 1,152 -> 361 bytes of objects each
        self._cache[k] = (raw, value)
        return value

    def __iter__(self) -> Iterator[str]:
        return (k.decode() for k in list(self._table.keys()))

    def __len__(self) -> int:
        return len(self._table)


class DerivedMapping(Mapping[str, int]):
    """A mapping recomputed from a source only after the source changed (``invalidate``)."""

    def __init__(self, compute: Callable[[], dict[str, int]]) -> None:
        self._compute = compute
        self._value: dict[str, int] | None = None

    def invalidate(self, *_: Any) -> None:
        self._value = None

    def _current(self) -> dict[str, int]:
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __getitem__(self, key: str) -> int:
        return self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
