"""Synthetic model tables in the published data set's schema, for benchmarks only.

``write_synthetic`` writes a file shaped like ``modelbiome/ai_ecosystem_withmodelcards``
(docs: dataset-schema.md section 1) with the structure the pipeline has to cope with:
heavy-tailed family trees several levels deep, the Hub's relation mix (fine-tunes,
quantizations, adapters, multi-parent merges, bare ``base_model:X`` tags), a few parents
that are not in the file, trait drift down the trees, heavy-tailed popularity and model
cards that turn to tool-written templates further from the root.

Every value is invented: nothing is copied from real rows. Parquet files carry
``hfmap.synthetic = true`` in their schema metadata so they cannot pass for real data.
Everything is vectorized: the forest and the per-model traits are numpy arrays, all text
(ids, tags, cards) is assembled with Arrow compute kernels.

Modules, in the order the data is made:
    calibration  the rates (one frozen dataclass)      archetypes  kinds of family roots
    forest       dates, who descends from whom, depth  traits      library, pipeline, license,
    cards        card kinds and card text                           languages, popularity, names
    population   all per-model values                  write       the file, one row group at a time
Templates and word lists are data: templates.toml (cards, body sentences), names.toml.

Command line: ``python -m bench.synth --rows N --out FILE [--seed S]``.
"""

from bench.synth.calibration import CALIBRATION, Calibration
from bench.synth.write import SYNTH_SCHEMA, SYNTHETIC_KEY, is_synthetic, write_synthetic

__all__ = [
    "CALIBRATION",
    "Calibration",
    "SYNTH_SCHEMA",
    "SYNTHETIC_KEY",
    "is_synthetic",
    "write_synthetic",
]
