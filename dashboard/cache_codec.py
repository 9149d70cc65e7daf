"""How query results are stored in Redis: msgpack, data only, never pickle.

Whoever can write to the dashboard's Redis can put any bytes under an ``hfmap:*`` key; a
pickle would run their code on the next request. This codec only ever builds plain data:
msgpack's own types (None, bool, int, float, str, bytes, list, dict) plus a few tagged
extensions, each decoded by code of ours into a value, never into a call chosen by the data:

- numpy arrays (dtype, shape and raw bytes; object arrays are refused),
- pandas DataFrames (as an Arrow IPC stream),
- integers outside 64 bits (as decimal text), datetimes (as ISO 8601 text),
- instances of the dataclasses registered with ``cache_value_type`` (by name, field by field).

Anything else cannot be encoded (``CacheCodecError``: the value is then simply not cached);
bytes that do not decode (a pickle, a truncated value, an unknown tag) raise
``CacheCodecError`` too, which the cache turns into a miss.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import msgpack
import numpy as np
import pandas as pd
import pyarrow as pa

MAGIC = b"hfmap-msgpack-1:"  # every value written starts with this; anything else is not ours
ARRAY, FRAME, BIG_INT, DATETIME, DATE, RECORD = range(1, 7)

_types: dict[str, type] = {}


class CacheCodecError(ValueError):
    """A value that cannot be stored, or stored bytes that are not a value of this codec."""


def cache_value_type(cls: type) -> type:
    """Register a dataclass whose instances query functions return (a class decorator)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    _types[cls.__name__] = cls
    return cls


def _pack(value) -> bytes:
    return msgpack.packb(value, default=_default, use_bin_type=True, strict_types=False)


def _default(value):
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise CacheCodecError("object arrays are not cached")
        array = np.ascontiguousarray(value)
        return msgpack.ExtType(ARRAY, _pack([array.dtype.str, list(array.shape), array.tobytes()]))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.DataFrame):
        sink = pa.BufferOutputStream()
        table = pa.Table.from_pandas(value)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return msgpack.ExtType(FRAME, sink.getvalue().to_pybytes())
    if isinstance(value, int):  # beyond 64 bits (msgpack packs the rest itself)
        return msgpack.ExtType(BIG_INT, str(value).encode("ascii"))
    if isinstance(value, datetime):
        return msgpack.ExtType(DATETIME, value.isoformat().encode("ascii"))
    if isinstance(value, date):
        return msgpack.ExtType(DATE, value.isoformat().encode("ascii"))
    if dataclasses.is_dataclass(value) and _types.get(type(value).__name__) is type(value):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        return msgpack.ExtType(RECORD, _pack([type(value).__name__, fields]))
    raise CacheCodecError(f"a {type(value).__name__} is not cached")


def _ext_hook(code: int, data: bytes):
    if code == ARRAY:
        dtype, shape, raw = _unpack(data)
        dtype = np.dtype(dtype)
        if dtype.hasobject:
            raise CacheCodecError("an object array in the cache")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if code == FRAME:
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pandas()
    if code == BIG_INT:
        return int(data.decode("ascii"))
    if code == DATETIME:
        return datetime.fromisoformat(data.decode("ascii"))
    if code == DATE:
        return date.fromisoformat(data.decode("ascii"))
    if code == RECORD:
        name, fields = _unpack(data)
        cls = _types.get(name)
        if cls is None or not isinstance(fields, dict):
            raise CacheCodecError(f"an unknown record type {name!r} in the cache")
        return cls(**fields)
    raise CacheCodecError(f"an unknown extension {code} in the cache")


def _unpack(data: bytes):
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


def encode(value) -> bytes:
    """The stored form of a value; CacheCodecError when it holds something this codec does not
    store."""
    try:
        return MAGIC + _pack(value)
    except CacheCodecError:
        raise
    except (TypeError, ValueError, OverflowError) as error:
        raise CacheCodecError(f"the value cannot be cached: {error}") from error


def decode(data: bytes):
    """The value of stored bytes; CacheCodecError for anything this codec did not write."""
    if not isinstance(data, (bytes, bytearray)) or not data.startswith(MAGIC):
        raise CacheCodecError("not a value written by hfmap's cache codec")
    try:
        return _unpack(bytes(data[len(MAGIC) :]))
    except CacheCodecError:
        raise
    # what msgpack, numpy, Arrow and the dataclasses raise for bytes that are not their value
    except (
        msgpack.UnpackException,
        pa.ArrowException,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
    ) as error:
        raise CacheCodecError(
            f"an unreadable cache value: {type(error).__name__}: {error}"
        ) from error


class DataOnlySerializer:
    """The serializer interface cachelib's RedisCache calls (dumps / loads) over this codec."""

    def dumps(self, value, *args, **kwargs) -> bytes:
        return encode(value)

    def loads(self, value: bytes | None):
        return None if value is None else decode(value)
