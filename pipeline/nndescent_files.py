"""A pynndescent index written to a folder as plain arrays and JSON, and read back, never pickled.

pynndescent's own state protocol (``NNDescent.__getstate__`` / ``__setstate__``) gives a dict
of numpy arrays, numbers, strings, a scipy CSR search graph, the search forest as
(hyperplanes, offsets, children, indices, leaf_size) tuples, and a few compiled functions that
``__setstate__`` makes again. Each entry is written by its type: arrays to ``<key>.npy``, the
CSR graph as its data / indices / indptr arrays, each tree as its four arrays, every other
value in ``state.json``. Arrays are saved and loaded with ``allow_pickle=False``. A value of a
type not planned for here raises TypeError naming its key, so a pynndescent upgrade that adds
one fails the build instead of writing an index that cannot be read back.

``_raw_data`` (what the search measures distances to) is stored: for cosine pynndescent keeps
the vectors L2-normalized and reordered to its search tree's leaf order, and an index carried
by later builds needs the vectors of the build that made it, which those builds do not hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pynndescent
import scipy.sparse
from pynndescent import NNDescent

STATE_FILE = "state.json"
FORMAT = "hfmap-nndescent-arrays-1"
# Compiled functions in the state that NNDescent.__setstate__ makes again (not written).
REMADE_ON_LOAD = ("_distance_func", "_distance_correction", "_deheap_function", "_rerank_function")
TREE_KEYS = ("_search_forest",)  # tuples of denumbaified FlatTrees
TREE_FIELDS = ("hyperplanes", "offsets", "children", "indices")  # then leaf_size, an int
PLAIN_TYPES = (type(None), bool, int, float, str)
CSR_PARTS = ("data", "indices", "indptr")
NUMBER_KINDS = "biuf"  # numpy scalars kept: booleans, integers, floats


def save_nndescent(index: NNDescent, folder: Path) -> None:
    """Write the prepared index into the existing, empty ``folder``: .npy files and STATE_FILE."""
    index.prepare()  # the search graph and tree now, not on the first query after loading
    entries = {}
    for key, value in index.__getstate__().items():
        entries[key] = _saved_entry(key, value, folder)
    state = {"format": FORMAT, "pynndescent": pynndescent.__version__, "entries": entries}
    (folder / STATE_FILE).write_text(json.dumps(state, indent=1))


def load_nndescent(folder: Path) -> NNDescent:
    """The index save_nndescent wrote into ``folder``, ready to query."""
    state = json.loads((folder / STATE_FILE).read_text())
    if state.get("format") != FORMAT:
        raise ValueError(f"{str(folder)!r} holds no pynndescent index in the format {FORMAT}.")
    values = {
        key: _loaded_value(key, entry, folder)
        for key, entry in state["entries"].items()
        if "remade" not in entry
    }
    index = NNDescent.__new__(NNDescent)
    index.__setstate__(values)
    missing = [key for key, entry in state["entries"].items() if not hasattr(index, key)]
    if missing:
        raise RuntimeError(f"pynndescent did not make {', '.join(missing)} again on loading.")
    return index


def saved_files(folder: Path) -> list[str]:
    """Names of the files of the index saved in ``folder``, STATE_FILE last."""
    state = json.loads((folder / STATE_FILE).read_text())
    names = [
        _file_name(name) for entry in state["entries"].values() for name in _entry_files(entry)
    ]
    return [*names, STATE_FILE]


def _saved_entry(key: str, value, folder: Path) -> dict:
    """How ``value`` is kept: its JSON description, after writing any arrays it holds."""
    if key in REMADE_ON_LOAD and value is not None:
        if not callable(value):
            kind = type(value).__name__
            raise TypeError(f"pynndescent state {key!r} is a {kind}, not a function.")
        return {"remade": True}
    if isinstance(value, np.generic):  # before the plain types: np.float64 is a float
        if value.dtype.kind not in NUMBER_KINDS:
            raise TypeError(f"pynndescent state {key!r} is a numpy {value.dtype} scalar.")
        return {"numpy_scalar": value.dtype.str, "value": value.item()}
    if isinstance(value, PLAIN_TYPES):
        return {"plain": value}
    if isinstance(value, np.ndarray):
        return {"array": _save_array(key, value, folder, key)}
    if _is_numpy_number_type(value):
        return {"numpy_type": np.dtype(value).str}
    if isinstance(value, (scipy.sparse.csr_array, scipy.sparse.csr_matrix)):
        files = {
            part: _save_array(key, getattr(value, part), folder, f"{key}.{part}")
            for part in CSR_PARTS
        }
        return {
            "csr": files,
            "shape": list(value.shape),
            "sorted": bool(value.has_sorted_indices),
            "matrix": isinstance(value, scipy.sparse.csr_matrix),
        }
    if key in TREE_KEYS and isinstance(value, tuple):
        trees = [_save_tree(key, number, tree, folder) for number, tree in enumerate(value)]
        return {"trees": trees}
    if isinstance(value, tuple) and all(isinstance(item, np.ndarray) for item in value):
        stems = [f"{key}.{number}" for number in range(len(value))]
        files = [
            _save_array(key, item, folder, stem) for item, stem in zip(value, stems, strict=True)
        ]
        return {"arrays": files}
    if isinstance(value, tuple) and all(isinstance(item, PLAIN_TYPES) for item in value):
        return {"tuple": list(value)}
    raise TypeError(
        f"pynndescent state {key!r} is a {type(value).__name__}, which hfmap does not know how to "
        "save without pickle."
    )


def _is_numpy_number_type(value) -> bool:
    """Whether value is a numpy scalar type such as np.float32 (the index's input dtype)."""
    return (
        isinstance(value, type)
        and issubclass(value, np.generic)
        and np.dtype(value).kind in NUMBER_KINDS
    )


def _save_tree(key: str, number: int, tree, folder: Path) -> dict:
    """One denumbaified FlatTree: its four arrays as files, its leaf size in the JSON."""
    is_flat_tree = (
        isinstance(tree, tuple)
        and len(tree) == len(TREE_FIELDS) + 1
        and all(isinstance(part, np.ndarray) for part in tree[:-1])
        and isinstance(tree[-1], int)
    )
    if not is_flat_tree:
        raise TypeError(f"pynndescent state {key!r} holds a tree that is not a FlatTree's fields.")
    files = {
        field: _save_array(key, part, folder, f"{key}.{number}.{field}")
        for field, part in zip(TREE_FIELDS, tree[:-1], strict=True)
    }
    return {**files, "leaf_size": tree[-1]}


def _save_array(key: str, array: np.ndarray, folder: Path, stem: str) -> str:
    if array.dtype.hasobject:
        raise TypeError(f"pynndescent state {key!r} holds an array of Python objects.")
    name = f"{stem}.npy"
    np.save(folder / name, np.asarray(array), allow_pickle=False)
    return name


def _load_array(folder: Path, name: str) -> np.ndarray:
    return np.load(folder / _file_name(name), allow_pickle=False)


def _file_name(name) -> str:
    """A name STATE_FILE gives, checked to be a .npy file in its own folder (not a path)."""
    if not (
        isinstance(name, str)
        and name.endswith(".npy")
        and Path(name).name == name
        and not name.startswith(".")
    ):
        raise ValueError(f"The saved pynndescent state names {name!r}, not a .npy file beside it.")
    return name


def _loaded_value(key: str, entry: dict, folder: Path):
    if "plain" in entry:
        return entry["plain"]
    if "array" in entry:
        return _load_array(folder, entry["array"])
    if "numpy_scalar" in entry:
        return np.dtype(entry["numpy_scalar"]).type(entry["value"])
    if "numpy_type" in entry:
        return np.dtype(entry["numpy_type"]).type
    if "csr" in entry:
        parts = [_load_array(folder, entry["csr"][part]) for part in CSR_PARTS]
        kind = scipy.sparse.csr_matrix if entry["matrix"] else scipy.sparse.csr_array
        graph = kind(tuple(parts), shape=tuple(entry["shape"]))
        graph.has_sorted_indices = entry["sorted"]
        return graph
    if "trees" in entry:
        return tuple(
            (*(_load_array(folder, tree[field]) for field in TREE_FIELDS), int(tree["leaf_size"]))
            for tree in entry["trees"]
        )
    if "arrays" in entry:
        return tuple(_load_array(folder, name) for name in entry["arrays"])
    if "tuple" in entry:
        return tuple(entry["tuple"])
    raise ValueError(f"The saved pynndescent state {key!r} has an unknown form: {sorted(entry)}.")


def _entry_files(entry: dict) -> list[str]:
    if "array" in entry:
        return [entry["array"]]
    if "csr" in entry:
        return list(entry["csr"].values())
    if "trees" in entry:
        return [tree[field] for tree in entry["trees"] for field in TREE_FIELDS]
    return list(entry.get("arrays", []))
