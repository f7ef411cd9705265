"""Every module here is a plugin with a ``NAME``."""
