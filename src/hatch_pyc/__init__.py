"""hatch-pyc: ship compiled bytecode in the wheels hatchling builds."""

__version__ = "0.2.0"
