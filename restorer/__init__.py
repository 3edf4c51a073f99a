"""Restorer: bring old and damaged photographs back.

Importing this package loads neither torch nor Qt; the heavy parts are imported
only by the modules that need them.
"""

__version__ = "0.1.0"
