"""The vocabulary every room shares: errors, limits, names and paths, options, modules, target
interpreters and the worker processes that run in them."""
