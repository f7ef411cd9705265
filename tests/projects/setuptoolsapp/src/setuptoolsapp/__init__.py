"""A click CLI built by setuptools."""
