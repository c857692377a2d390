"""lrlint: catch batch-size changes without the matching learning-rate scaling."""

__version__ = "0.1.0"
