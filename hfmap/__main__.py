"""`python -m hfmap ...`: the same command line as `hfmap ...`."""

import sys

from hfmap.cli import main

sys.exit(main())
