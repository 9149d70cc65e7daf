"""What the views ask of a build: plain functions of (build, plain values), one module per concept.

Each public query is decorated with ``cached_query``: tests call ``query(build, …)``,
callbacks call ``query.cached(build, …)``, which goes through the Redis query cache.
"""
