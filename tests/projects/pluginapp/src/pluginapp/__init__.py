"""A CLI that finds its plugins as pylint and astroid do: by listing its plugins directory and
mapping each file to its module name through ``sys.path``."""
