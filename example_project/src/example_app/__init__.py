"""example-app: reports where its own code was loaded from, and gives a tip."""

__version__ = "1.0.0"
