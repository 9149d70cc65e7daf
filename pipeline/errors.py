"""The one kind of error hfmap shows a user as a sentence: a mistake the user can fix.

`hfmap` reports a UserError as its message and exit code 2. Every other exception
is a bug in hfmap and is reported as one: a sentence naming it, the traceback in a
file, exit code 1 (hfmap.cli).
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; its message is one sentence for the user."""


class SettingError(UserError):
    """A setting in the environment (HFMAP_*) whose value does not parse."""


class SourceError(UserError):
    """A source that cannot be read at all (missing, empty, unreadable, of an unknown kind)."""


class EmbedderError(UserError):
    """An embedder that cannot be used: an unknown name, or a model path that holds no model."""


class UnknownModelError(UserError):
    """A query that names a model the build does not hold."""


class BuildFormatError(UserError):
    """A directory that is not a build this code can read."""


class NoSharedWordsError(UserError):
    """A free-text query that shares no word with the models of the build it searches."""
