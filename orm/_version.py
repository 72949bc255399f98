"""The release number, in one place.

``orm/__init__.py``, ``orm.cli`` (which must stay importable without the rest
of the package) and the build metadata (``[tool.setuptools.dynamic]`` in
pyproject.toml) all read it from here, so they cannot drift apart.
"""

__version__ = "0.1.0"
