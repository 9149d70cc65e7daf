"""Text from sources, shown on a terminal exactly as it is: never interpreted.

Model ids, paths, tags and examples come from the Hub or from files users give:
they may hold console markup (``[bold]``, ``[/]``), escape sequences (ESC), NUL
or other control characters. `printable` makes such text inert for a terminal
(control characters become visible escapes such as ``\\x1b``), and `literal`
makes it a rich Text, which rich never reads as markup.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 control characters, DEL, and lone surrogates (which no terminal encoding can write)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(value) -> str:
    """str(value) with every control character (and lone surrogate) written as a visible escape."""
    return _UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], str(value))


def literal(value, style: str | None = None) -> Text:
    """value as rich Text shown literally (no markup, control characters escaped)."""
    return Text(printable(value), style=style or "")
