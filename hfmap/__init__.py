"""hfmap's command line (`hfmap`, `python -m hfmap`), above the pipeline, the dashboard and the
tracker: see hfmap.cli."""
