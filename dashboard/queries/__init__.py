"""What the views ask of a build: plain functions of (build, plain values), one module per concept.

Each query a callback asks is decorated with ``cached_query``: tests call ``query(build, …)``,
callbacks call ``query.cached(build, …)``, which goes through the Redis query cache. Results are
plain values (arrays, dicts, small dataclasses) that ``dashboard.figures`` draws without the
build; ``views`` caches each view's finished figures whole. ``ranking`` ranks a category's
values (the top ones and "other") for every view that names them.
"""
