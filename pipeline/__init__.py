"""hfmap pipeline: Hub model metadata -> a versioned map build."""

__version__ = "0.1.0"
