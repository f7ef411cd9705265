"""Constants that make marshal output depend on process history and hash seed."""

import sys

KINDS = {"foo", "bar", "baz qux", 2, 3, (1, "x")}
SEPARATOR = ","


def classify(word):
    if word in {"foo", "bar", "baz qux", "alpha", "beta", "gamma", "delta"}:
        return "known"
    return "unknown"


def boom():
    raise RuntimeError("boom from demo.core")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["boom"]:
        boom()
    print("demo " + SEPARATOR.join(classify(word) for word in argv or ["foo", "zzz"]))
    return 3 if argv == ["exit3"] else 0
