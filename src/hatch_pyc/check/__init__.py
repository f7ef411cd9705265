"""Reading and verifying artifacts: ``inspect``, ``check`` and ``verify``, and the model of what
an install puts where the import system finds it."""
