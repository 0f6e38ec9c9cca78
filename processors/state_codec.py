"""How a state record is stored: its JSON, zstd-compressed with a shared dictionary.

The processor's tables (hosts, host parts, groups) keep every record in memory and in their
changelogs. Their records are small JSON documents that repeat the same field names, rule ids,
titles and timestamp shapes, which a compressor without a dictionary cannot exploit in a few
hundred bytes. With a raw-content dictionary of such records (``state_dictionary_v1.ndjson``,
made by bench/state_dictionary.py), zstd at level 1 stores a content shard in ~30 % of its bytes
and a group state in ~15 %, for ~3 us to write and ~1 us to read a record.

Decision: compressed, because state is the processor's memory: at 100k hosts and 1M events the
tables held ~800 MB of JSON (bench/memory.py), and RSS missed its 1 GiB goal. The changelog is no
longer readable as text by any consumer; :func:`unpack` is what reads it (the secret scan of the
security test does).

A record is one prefix byte then its body:
- ``{``: plain JSON (a record that compression would not shrink, and every record written before
  compression came, so older changelogs recover unchanged);
- ``\\x01``: zstd, dictionary v1.
A dictionary is never edited: a new one is a new prefix byte, and the old one stays for reading.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

import zstandard

PLAIN: Final = ord("{")
ZSTD_V1: Final = 1
LEVEL: Final = 1  # level 3: 0.370 of the bytes against 0.374, at 6.7 against 4.7 us a record (dense hosts)


class StateCodecError(ValueError):
    """A stored record is neither plain JSON nor a known compressed form."""


def _dictionary(name: str) -> zstandard.ZstdCompressionDict:
    raw = resources.files("deskwatch.processors").joinpath(name).read_bytes()
    dictionary = zstandard.ZstdCompressionDict(raw, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    dictionary.precompute_compress(level=LEVEL)  # loaded once, not per record
    return dictionary


_V1: Final = _dictionary("state_dictionary_v1.ndjson")
# No checksum (Kafka's record CRC covers the bytes), no dictionary id (the prefix byte says which);
# the content size, so a reader allocates once.
_COMPRESS: Final = zstandard.ZstdCompressor(level=LEVEL, dict_data=_V1, write_checksum=False,
                                            write_dict_id=False, write_content_size=True).compress
_DECOMPRESS: Final = zstandard.ZstdDecompressor(dict_data=_V1).decompress
_V1_PREFIX: Final = bytes([ZSTD_V1])


def pack(document: bytes) -> bytes:
    """The stored form of a JSON document: compressed when that is smaller, else as it is."""
    compressed = _V1_PREFIX + _COMPRESS(document)
    return compressed if len(compressed) < len(document) else document


def unpack(record: bytes) -> bytes:
    """The JSON document a stored record holds."""
    if not record:
        raise StateCodecError("empty state record")
    kind = record[0]
    if kind == PLAIN:
        return record
    if kind == ZSTD_V1:
        try:
            return _DECOMPRESS(record[1:])
        except zstandard.ZstdError as e:
            raise StateCodecError(f"state record of {len(record)} bytes does not decompress: {e}") from None
    raise StateCodecError(f"state record of {len(record)} bytes starts with byte {kind}: "
                          "neither JSON nor a compression this version knows")
