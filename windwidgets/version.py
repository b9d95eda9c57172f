"""The version of windwidgets, in one place: the package, its files and pyproject.toml read it here."""
__version__ = "0.1.0"
