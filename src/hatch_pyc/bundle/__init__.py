"""Bundles: a wheel and its dependencies as one runnable ``.pyz``."""
