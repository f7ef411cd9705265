from demo.sub.deep.mod import answer  # noqa: F401
