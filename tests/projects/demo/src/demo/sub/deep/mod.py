def answer():
    """The answer."""
    assert True, "kept at optimize 0, dropped at 1"
    return 42
