"""Demo package for hatch-pyc's tests."""

VERSION = "0.1.0"
