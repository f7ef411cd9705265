"""Compile Python sources to canonical ``.pyc`` bytes.

This module runs inside the *target* interpreter, which may be older than the one running
the build (CPython 3.8 and newer), so it imports nothing but the standard library and keeps
to syntax that CPython 3.8 accepts. It serves both in-process compilation and worker
processes started as ``python -I worker.py JOBFILE``.

Reproducibility: ``marshal.dumps`` decides whether to give an object a back-reference slot
(``FLAG_REF``) from its reference count, which depends on everything the process did before
(cpython gh-129724, gh-78274), and before 3.11 it writes frozenset constants in hash-seed
order. :func:`canonicalize` rewrites the marshal stream so that only objects that really
occur more than once carry ``FLAG_REF`` and frozenset elements come in a fixed order. The
result loads to the same code objects and is a function of the source alone.
"""

import importlib.util
import json
import marshal
import os
import struct
import sys

FLAG_REF = 0x80

#: Singletons: never given a back-reference slot by the writer nor by the reader.
_SINGLETONS = {ord(c) for c in "0NFTS."}
#: Type codes whose payload is a fixed number of bytes (marshal version 4).
_FIXED_SIZE = {ord("i"): 4, ord("g"): 8, ord("y"): 16}
#: Type codes whose payload is a 4-byte length followed by that many bytes.
_SIZED = {ord(c) for c in "stuaA"}
#: Type codes whose payload is a 1-byte length followed by that many bytes.
_SHORT_SIZED = {ord(c) for c in "zZ"}
#: Containers of a 4-byte count of objects; the 1-byte count form is the small tuple.
_SEQUENCES = {ord(c) for c in "([<>"}
_SMALL_TUPLE = ord(")")
_SETS = {ord("<"), ord(">")}
_DICT = ord("{")
_NULL = ord("0")
_REF = ord("r")
_CODE = ord("c")
_LONG = ord("l")
_OLD_FLOAT = ord("f")
_OLD_COMPLEX = ord("x")
_SLICE = ord(":")
#: String type codes as (not interned, interned) pairs: unicode, ASCII, short ASCII.
_STRING_PAIRS = {ord(c): (ord(pair[0]), ord(pair[1])) for pair in ("ut", "aA", "zZ") for c in pair}
#: Objects that are not merged with equal ones: mutable containers and code objects.
_MUTABLE = {ord(c) for c in "[{<c"}
_NAME_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


def code_layout(version):
    """Return (raw int32 fields, objects, objects after ``co_firstlineno``) of a code object."""
    if version >= (3, 11):
        # argcount, posonly, kwonly, stacksize, flags | code, consts, names,
        # localsplusnames, localspluskinds, filename, name, qualname | linetable, exceptiontable
        return 5, 8, 2
    # argcount, posonly, kwonly, nlocals, stacksize, flags | code, consts, names, varnames,
    # freevars, cellvars, filename, name | lnotab (linetable on 3.10)
    return 6, 8, 1


class _Node:
    """One object of a marshal stream: its type code and its parts (raw bytes or nodes)."""

    __slots__ = ("code", "parts")

    def __init__(self, code, parts):
        self.code = code
        self.parts = parts


class _Reader:
    def __init__(self, data, version):
        self.data = data
        self.pos = 0
        self.refs = []
        self.layout = code_layout(version)
        # Equal immutable objects become one node: whether the compiler shared them
        # depends on the process's history too.
        self.values = {}
        #: How often each node is an item of another (or the root): refs go to those used twice.
        self.uses = {}
        #: Set and frozenset nodes, inner ones before the sets that hold them.
        self.sets = []
        self.singletons = {code: _Node(code, []) for code in _SINGLETONS}

    def raw(self, size):
        start = self.pos
        self.pos += size
        if self.pos > len(self.data):
            raise ValueError("truncated marshal data")
        return self.data[start : self.pos]

    def read(self):
        uses = self.uses
        try:
            byte = self.data[self.pos]
        except IndexError:
            raise ValueError("truncated marshal data") from None
        self.pos += 1
        code = byte & ~FLAG_REF
        if code == _REF:
            node = self.refs[struct.unpack("<i", self.raw(4))[0]]
            uses[id(node)] += 1
            return node
        if code in _SINGLETONS:
            return self.singletons[code]
        if byte & FLAG_REF:
            # The reader numbers objects as it starts them, containers before their items.
            index = len(self.refs)
            self.refs.append(None)
        node = _Node(code, self.read_parts(code))
        if code in _STRING_PAIRS:
            # Whether a string was interned depends on the process's history too; CPython
            # interns identifier-like constants (and every name, again, on load), so that
            # is the one canonical rule.
            node.code = _STRING_PAIRS[code][not node.parts[0][_width(code) :].translate(None, _NAME_CHARS)]
        elif code in _SETS:
            self.sets.append(node)
        if code not in _MUTABLE:
            key = (node.code, *[id(p) if isinstance(p, _Node) else p for p in node.parts])
            kept = self.values.setdefault(key, node)
            if kept is not node:
                # The copy is dropped: its items are used once less. (Whether the compiler
                # made a copy at all depends on the process's history.)
                for part in node.parts:
                    # Singletons are never counted: they never get a back-reference.
                    if isinstance(part, _Node) and part.code not in _SINGLETONS:
                        uses[id(part)] -= 1
                node = kept
        if byte & FLAG_REF:
            self.refs[index] = node
        key = id(node)
        uses[key] = uses.get(key, 0) + 1
        return node

    def read_parts(self, code):
        if code in _FIXED_SIZE:
            return [self.raw(_FIXED_SIZE[code])]
        if code in _SIZED or code in _SHORT_SIZED:
            size = self.raw(_width(code))
            return [size + self.raw(size[0] if len(size) == 1 else struct.unpack("<i", size)[0])]
        if code in _SEQUENCES or code == _SMALL_TUPLE:
            count = self.raw(_width(code))
            n = count[0] if len(count) == 1 else struct.unpack("<i", count)[0]
            return [count] + [self.read() for _ in range(n)]
        if code == _DICT:
            parts = []
            while self.raw(1)[0] != _NULL:
                self.pos -= 1
                parts.append(self.read())
                parts.append(self.read())
            return [*parts, bytes((_NULL,))]
        if code == _CODE:
            ints, objects, tail = self.layout
            parts = [self.raw(4 * ints)]
            parts.extend(self.read() for _ in range(objects))
            parts.append(self.raw(4))
            parts.extend(self.read() for _ in range(tail))
            return parts
        if code == _LONG:
            size = self.raw(4)
            return [size + self.raw(2 * abs(struct.unpack("<i", size)[0]))]
        if code in (_OLD_FLOAT, _OLD_COMPLEX):
            parts = []
            for _ in range(1 if code == _OLD_FLOAT else 2):
                size = self.raw(1)
                parts.append(size + self.raw(size[0]))
            return parts
        if code == _SLICE:
            return [self.read() for _ in range(3)]
        raise ValueError("unknown marshal type code %r at offset %d" % (chr(code), self.pos - 1))


def _width(code):
    """Bytes in the length or count prefix of a sized object."""
    return 1 if code in _SHORT_SIZED or code == _SMALL_TUPLE else 4


def _standalone(node, out):
    """Serialize ``node`` with every shared object written out in full (a sort key)."""
    out.append(bytes((node.code,)))
    for part in node.parts:
        if isinstance(part, _Node):
            _standalone(part, out)
        else:
            out.append(part)


def _sort_sets(sets):
    """Sort the items of each set node, inner sets first so that outer keys see them sorted."""
    for node in sets:
        keys = {}
        for item in node.parts[1:]:
            out = []
            _standalone(item, out)
            keys[id(item)] = b"".join(out)
        node.parts[1:] = sorted(node.parts[1:], key=lambda item: keys[id(item)])


#: The one-byte type codes, plain and with FLAG_REF, ready to write.
_CODE_BYTES = [bytes((code,)) for code in range(256)]


class _Writer:
    def __init__(self, uses):
        self.uses = uses
        self.indexes = {}
        self.out = []

    def write(self, node):
        out = self.out
        key = id(node)
        index = self.indexes.get(key)
        if index is not None:
            out.append(struct.pack("<Bi", _REF, index))
            return
        if node.code in _SINGLETONS:
            out.append(_CODE_BYTES[node.code])
            return
        if self.uses[key] > 1:
            self.indexes[key] = len(self.indexes)
            out.append(_CODE_BYTES[node.code | FLAG_REF])
        else:
            out.append(_CODE_BYTES[node.code])
        for part in node.parts:
            if isinstance(part, _Node):
                self.write(part)
            else:
                out.append(part)


def canonicalize(data, version=None):
    """Return the canonical form of a marshal stream written by CPython ``version``.

    ``FLAG_REF`` is kept exactly on the objects that occur more than once, back-references
    are renumbered to match, and set and frozenset items are sorted by their serialized
    bytes. ``marshal.loads`` gives equal objects for the input and the output.
    """
    reader = _Reader(data, version or sys.version_info[:2])
    root = reader.read()
    if reader.pos != len(data):
        raise ValueError("trailing bytes after marshal data")
    _sort_sets(reader.sets)
    writer = _Writer(reader.uses)
    writer.write(root)
    return b"".join(writer.out)


def code_filenames(data, version):
    """The ``co_filename`` of every code object in a marshal stream written by ``version``.

    Read from the stream itself, so any interpreter can check the pycs of another one.
    """
    reader = _Reader(data, version)
    root = reader.read()
    # The filename is the object after code, consts, names and three name tuples (two on 3.11+).
    index = 1 + (5 if version >= (3, 11) else 6)
    names, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.code == _CODE:
            filename = node.parts[index]
            names.append(filename.parts[0][_width(filename.code) :].decode("utf-8", "surrogatepass"))
        stack.extend(part for part in node.parts if isinstance(part, _Node))
    return sorted(set(names))


def interpreter_info():
    """Describe the running interpreter, as recorded in the wheel's bytecode metadata."""
    return {
        "implementation": sys.implementation.name,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "cache_tag": sys.implementation.cache_tag,
        "magic_number": importlib.util.MAGIC_NUMBER.hex(),
    }


def pyc_header(source, mode, mtime):
    """The 16-byte pyc header (PEP 552) for ``source`` in invalidation ``mode``."""
    if mode == "timestamp":
        fields = struct.pack("<III", 0, mtime & 0xFFFFFFFF, len(source) & 0xFFFFFFFF)
    else:
        flags = 0b01 | (0b10 if mode == "checked-hash" else 0)
        fields = struct.pack("<I", flags) + importlib.util.source_hash(source)
    return importlib.util.MAGIC_NUMBER + fields


def pyc_path(path, level, legacy):
    """Where the pyc of the module at ``path`` (inside the wheel) goes for ``level``.

    ``legacy`` pycs sit where the source would be (``pkg/mod.pyc``), the only place the
    import system loads a pyc without its source. Otherwise the pyc goes to ``__pycache__``
    under the cache tag, which the target interpreter knows best: it is the one asked.
    """
    if legacy:
        return path[: -len(".py")] + ".pyc"
    return importlib.util.cache_from_source(path, optimization=level or "")


def compile_job(job, out_dir):
    """Compile one module at every requested level; return its result record.

    ``job["dfile"]`` becomes every code object's ``co_filename``. A module that fails to
    compile is reported as ``error`` with line and column, so the build can list every
    broken module at once.
    """
    result = {"path": job["path"], "pycs": [], "error": None}
    try:
        with open(job["source"], "rb") as f:
            source = f.read()
        header = pyc_header(source, job["mode"], job["mtime"])
        for level in job["levels"]:
            code = compile(source, job["dfile"], "exec", dont_inherit=True, optimize=level)
            data = header + canonicalize(marshal.dumps(code))
            relpath = pyc_path(job["path"], level, job["legacy"])
            target = os.path.join(out_dir, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            result["pycs"].append([level, relpath])
    except SyntaxError as exc:
        result["error"] = {"line": exc.lineno, "column": exc.offset, "message": exc.msg}
    except (ValueError, OSError) as exc:
        result["error"] = {"line": None, "column": None, "message": str(exc)}
    return result


def run(jobs, out_dir):
    """Compile ``jobs`` into ``out_dir``: the interpreter's description and one result each."""
    return {"interpreter": interpreter_info(), "results": [compile_job(job, out_dir) for job in jobs]}


def main(argv):
    """Worker entry point.

    ``worker.py --info`` prints the interpreter's description as JSON; ``worker.py JOBFILE``
    reads jobs and writes results beside it.
    """
    if argv[1:] == ["--info"]:
        print(json.dumps(interpreter_info()))
        return 0
    with open(argv[1], encoding="utf-8") as f:
        batch = json.load(f)
    report = run(batch["jobs"], batch["out_dir"])
    with open(argv[1] + ".result", "w", encoding="utf-8") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
