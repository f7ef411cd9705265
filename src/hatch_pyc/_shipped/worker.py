"""Compile Python sources to canonical ``.pyc`` bytes, and read pycs for ``check``.

This module runs inside the *target* interpreter, which may be older than the one running
the build (CPython 3.8 and newer), so it imports nothing but the standard library and keeps
to syntax that CPython 3.8 accepts. The build process imports it for the helpers it shares
with the workers, which :mod:`hatch_pyc.core.processes` alone starts.

The protocol: ``python -I -B worker.py --info`` prints the interpreter's facts as one JSON
line, with the protocol's version (:data:`PROTOCOL`). ``--serve OUT_DIR`` (compile),
``--verify CPU RATE MEMORY`` (compare code with its source) and ``--filenames CPU RATE
MEMORY`` (load pycs) serve requests under limits: a request is one JSON line, then one
payload of bytes for each size the line gives (``size``; ``source_size`` and ``pyc_size``),
read whole (a short read is an error); a reply is one JSON line, in the order of the
requests, one request at a time. A worker ends when its input closes.

Reproducibility: ``marshal.dumps`` decides whether to give an object a back-reference slot
(``FLAG_REF``) from its reference count, and whether to mark a string interned from the
string's state, both of which depend on everything the process did before (cpython
gh-129724, gh-78274); before 3.11 it also writes frozenset constants in hash-seed order.
:func:`canonical_dumps` makes the bytes a function of the source alone: on 3.11 and newer
by handing marshal constants whose state is fixed (:func:`_canonical_code`), before 3.11
by rewriting the marshal stream (:func:`canonicalize`). Either way the result loads to the
same code objects.
"""

import builtins
import hashlib
import importlib.util
import json
import marshal
import os
import re
import struct
import sys
import sysconfig
import types

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
#: Dicts (in no pyc CPython writes) and frozendicts (3.15): key, value pairs ended by a null.
_DICTS = {ord("{"), ord("}")}
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
#: Objects whose hash no process decides: ints and bools (see :meth:`_Reader.fixed_hash`).
_FIXED_HASH = {ord(c) for c in "ilTF"}
_NONE = ord("N")
_FLOAT = ord("g")
_COMPLEX = ord("y")
_TUPLES = {ord("("), _SMALL_TUPLE}
_FROZENSET = ord(">")
_NAME_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


def code_layout(version, implementation="cpython"):
    """Return (raw int32 fields, objects, objects after ``co_firstlineno``) of a code object,
    and the index of ``co_filename`` among the objects."""
    if implementation == "pypy" and version >= (3, 11):
        # 3.10's fields, then qualname after name | linetable, exceptiontable
        return 6, 9, 2, 6
    if version >= (3, 11):
        # argcount, posonly, kwonly, stacksize, flags | code, consts, names,
        # localsplusnames, localspluskinds, filename, name, qualname | linetable, exceptiontable
        return 5, 8, 2, 5
    # argcount, posonly, kwonly, nlocals, stacksize, flags | code, consts, names, varnames,
    # freevars, cellvars, filename, name | lnotab (linetable on 3.10)
    return 6, 8, 1, 6


class _Node:
    """One object of a marshal stream: its type code and its parts (raw bytes or nodes)."""

    __slots__ = ("code", "parts")

    def __init__(self, code, parts):
        self.code = code
        self.parts = parts


class _Reader:
    def __init__(self, data, version, implementation):
        self.data = data
        self.pos = 0
        self.refs = []
        self.layout = code_layout(version, implementation)[:3]
        # Equal immutable objects become one node: whether the compiler shared them
        # depends on the process's history too.
        self.values = {}
        #: How often each node is an item of another (or the root): refs go to those used twice.
        self.uses = {}
        #: Set and frozenset nodes whose items' order is not compared (see
        #: :meth:`fixed_hash`), inner ones before the sets that hold them.
        self.sets = []
        #: Whether a set's iteration order is its items' stored order, whatever they are:
        #: PyPy's sets keep the order items were added in.
        self.ordered_sets = implementation == "pypy"
        self.none_hash_fixed = version >= (3, 12)  # before, hash(None) is its address
        self.nan_hash_fixed = version < (3, 10)  # from 3.10, a NaN's hash is its address
        self.fixed = {}
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
        elif code in _SETS and not (self.ordered_sets or all(self.fixed_hash(item) for item in node.parts[1:])):
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

    def fixed_hash(self, node):
        """Whether ``node``'s hash is the same in every process of this interpreter.

        ``marshal.loads`` adds a set's items in their stored order, and where their hashes
        collide in the table the order they were added decides the order the set iterates
        in. For ints, bools, floats and complex numbers, and tuples and frozensets of
        them, the hashes collide alike in every process and honest writers store one order
        (the compiler's, or from 3.11 marshal's sort): that order is compared. Strings and
        bytes have hashes of the process's hash seed, ``None`` (before 3.12), ``...``,
        NaNs (from 3.10) and code objects hashes of their addresses: writers store sets
        holding them in differing orders, which are not compared.
        """
        key = id(node)
        fixed = self.fixed.get(key)
        if fixed is None:
            code = node.code
            if code in _FIXED_HASH:
                fixed = True
            elif code == _NONE:
                fixed = self.none_hash_fixed
            elif code in (_FLOAT, _COMPLEX, _OLD_FLOAT, _OLD_COMPLEX):
                fixed = self.nan_hash_fixed or not any(value != value for value in _numbers(node))
            elif code in _TUPLES or code == _FROZENSET:
                fixed = all(self.fixed_hash(item) for item in node.parts[1:])
            else:
                fixed = False
            self.fixed[key] = fixed
        return fixed

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
        if code in _DICTS:
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


def _numbers(node):
    """The floats of a float or complex node."""
    if node.code == _FLOAT or node.code == _COMPLEX:
        data = node.parts[0]
        return struct.unpack("<%dd" % (len(data) // 8), data)
    return [float(part[1:]) for part in node.parts]


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


def canonicalize(data, version=None, implementation=None):
    """Return the canonical form of a marshal stream written by ``implementation`` ``version``
    (default: this interpreter's).

    ``FLAG_REF`` is kept exactly on the objects that occur more than once, back-references
    are renumbered to match, and the items of sets whose order the hash seed decides are
    sorted by their serialized bytes (the others keep their order, which decides the
    loaded set's: :meth:`_Reader.fixed_hash`). ``marshal.loads`` gives equal objects for
    the input and the output.
    """
    reader = _Reader(data, version or sys.version_info[:2], implementation or sys.implementation.name)
    root = reader.read()
    if reader.pos != len(data):
        raise ValueError("trailing bytes after marshal data")
    _sort_sets(reader.sets)
    writer = _Writer(reader.uses)
    writer.write(root)
    return b"".join(writer.out)


def code_digest(data, version=None, implementation=None):
    """A SHA-256 digest of the code object in the marshal stream ``data`` (written by
    ``implementation`` ``version``, default this interpreter), of everything in it but
    ``co_filename``; two streams have one digest when they load to code that behaves alike.

    The digest is taken over the bytes marshal stored, not over the loaded objects: code
    equality (``==``) leaves out what a crafted pyc can change the behaviour with, such as
    specialized opcodes and inline caches in the bytecode (CPython 3.11 and newer read them
    as stored, and compare them as their base instructions), the stack size or the
    qualified name. So every field of every code object takes part, as stored: the
    bytecode, the argument counts, stack size and flags, the constants (code objects the
    same way, others by type code and bytes, so that ``1``, ``1.0`` and ``True`` differ),
    the names, the local, free and cell variables and their kinds, the name and qualified
    name, the first line number, line and exception tables. What the writer's history
    decides is left out, as :func:`canonicalize` leaves it out: back-references (each
    object counts as a whole wherever it occurs, so which equal constants are one object is
    not compared), which strings are marked interned, and the order of the items of sets
    that hold strings, bytes or other objects whose hash is not the same in every process
    (:meth:`_Reader.fixed_hash`; the order of other sets is compared, as it decides the
    order they iterate in). Each distinct object is hashed once, however often
    back-references repeat it. Raises ValueError (and others, on a crafted stream) for data
    that is not one code object.
    """
    version = version or sys.version_info[:2]
    implementation = implementation or sys.implementation.name
    reader = _Reader(data, version, implementation)
    root = reader.read()
    if reader.pos != len(data):
        raise ValueError("trailing bytes after marshal data")
    if root.code != _CODE:
        raise ValueError("the marshal data is not a code object")
    # The part of a code node that is co_filename: after the raw int32 fields.
    unordered = {id(node) for node in reader.sets}
    return _digest(root, 1 + code_layout(version, implementation)[3], {}, unordered)


def _digest(node, filename_part, memo, unordered):
    """The digest of ``node``: its type code, then each part, raw bytes by their length and
    content, objects by their own digests (of the items of the sets in ``unordered``,
    sorted)."""
    kept = memo.get(id(node))
    if kept is not None:
        return kept
    parts = []
    for index, part in enumerate(node.parts):
        if node.code == _CODE and index == filename_part:
            parts.append(b"f")  # co_filename: any string
        elif isinstance(part, _Node):
            parts.append(b"o" + _digest(part, filename_part, memo, unordered))
        else:
            parts.append(b"b" + struct.pack("<Q", len(part)) + part)
    if id(node) in unordered:
        parts[1:] = sorted(parts[1:])
    kept = memo[id(node)] = hashlib.sha256(bytes((node.code,)) + b"".join(parts)).digest()
    return kept


#: Characters of the strings CPython interns as identifiers (``all_name_chars``).
_NAME_SET = frozenset(_NAME_CHARS.decode())


def _canonical_string(text, memo):
    """One object per distinct string, in a state that no earlier work of the process set.

    Identifier-like strings and the one-character Latin-1 strings (cached singletons that
    cannot be copied) are interned; every other string is a fresh copy, which is never
    interned and is referenced only from this module's constants.
    """
    kept = memo.get(("s", text))
    if kept is None:
        if _NAME_SET.issuperset(text) or (len(text) == 1 and ord(text) < 256):
            kept = sys.intern(text)
        else:
            kept = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        memo[("s", text)] = kept
    return kept


def _canonical_const(value, memo):
    """``value`` with equal immutable constants merged into one object each."""
    kind = type(value)
    if kind is str:
        return _canonical_string(value, memo)
    if kind is types.CodeType:
        return _canonical_code(value, memo)
    if kind is tuple:
        value = tuple([_canonical_const(item, memo) for item in value])
        key = ("t", *map(id, value))
    elif kind is frozenset:
        # marshal sorts the items itself on 3.11+, by their (now canonical) bytes.
        value = frozenset([_canonical_const(item, memo) for item in value])
        key = ("f", frozenset(map(id, value)))
    elif kind is float:
        key = ("d", struct.pack("<d", value))  # -0.0 is not 0.0, nor 1.0 the int 1
    elif kind is complex:
        key = ("c", struct.pack("<dd", value.real, value.imag))
    elif kind is int or kind is bytes:
        key = (kind, value)
    else:
        return value  # None, True, False, Ellipsis: singletons
    return memo.setdefault(key, value)


def _canonical_code(code, memo):
    consts = tuple([_canonical_const(value, memo) for value in code.co_consts])
    return code.replace(co_consts=consts, co_filename=_canonical_string(code.co_filename, memo))


#: A free-threaded build (``python3.14t``): one bytecode with the default build, but a
#: compiler that shares code constants process-wide and makes them immortal, so that
#: reference counts, which marshal's back-references follow, tell nothing about one module.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def canonical_dumps(code):
    """The canonical marshal bytes of ``code`` (see the module docstring).

    On 3.11+ (where marshal sorts set items) the constants are rebuilt in a fixed state and
    marshal writes them: the code is loaded back first, so that no object is shared with
    the compiler's caches, and nothing else holds a reference when marshal counts them.
    Before 3.11, and on free-threaded builds, the stream is rewritten instead.
    """
    if sys.version_info < (3, 11) or FREE_THREADED:
        return canonicalize(marshal.dumps(code))
    memo = {}
    fresh = _canonical_code(marshal.loads(marshal.dumps(code)), memo)
    del memo
    return marshal.dumps(fresh)


#: Whether this interpreter's code objects carry column positions (CPython 3.11 and newer).
HAS_COLUMNS = sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
#: Started with ``-X no_debug_ranges``: ``compile()`` leaves the column positions out (and
#: then merges nested code objects that only they told apart). The build starts the
#: workers of modules without columns so, and ``check`` one of its verifiers.
COMPILES_WITHOUT_COLUMNS = HAS_COLUMNS and "no_debug_ranges" in sys._xoptions


def has_columns(code):
    """Whether ``code`` or any code object inside it has a column position."""
    stack = [code]
    while stack:
        code = stack.pop()
        if any(column is not None for _, _, column, _ in code.co_positions()):
            return True
        stack.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return False


def interpreter_info():
    """Describe the running interpreter, as recorded in the wheel's bytecode metadata."""
    return {
        "implementation": sys.implementation.name,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "cache_tag": sys.implementation.cache_tag,
        "magic_number": importlib.util.MAGIC_NUMBER.hex(),
        "free_threaded": FREE_THREADED,
    }


#: The version of what ``--info`` prints: a build refuses a worker that speaks another.
PROTOCOL = 2


def interpreter_facts():
    """All a build asks of a target, in one probe: the interpreter as the bytecode metadata
    records it; where it installs a wheel's files (its ``sysconfig`` scheme, as pypa/installer's
    own CLI builds it); which native code it loads."""
    import importlib.machinery

    base = sysconfig.get_config_var("base")
    return {
        "protocol": PROTOCOL,
        "interpreter": interpreter_info(),
        "scheme": {
            "paths": sysconfig.get_paths(),
            "include": sysconfig.get_path("include", vars={"installed_base": base}),
            # Not the path it was started by (a pyenv shim, say): scripts' shebangs name this.
            "executable": sys.executable,
        },
        "imports": {
            # Where the import system looks at start-up, before any .pth file of a wheel.
            "path": [os.path.abspath(entry) for entry in sys.path if entry],
            "stdlib": stdlib_names(),
        },
        "platform": {
            "platform": sysconfig.get_platform(),
            "soabi": sysconfig.get_config_var("SOABI") or "",
            "sys_platform": sys.platform,
            "machine": os.uname().machine if hasattr(os, "uname") else "",
            "suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        },
    }


def stdlib_names():
    """The top-level module names the standard library provides (and the built-in modules),
    which nothing a wheel installs may answer in their place."""
    import importlib.machinery

    names = set(sys.builtin_module_names)
    names.update(getattr(sys, "stdlib_module_names", ()))  # 3.10+
    # And what the standard library's directories hold, which that list leaves out:
    # _sysconfigdata_<abi>_<platform> (sysconfig imports it by name from sys.path), test.
    suffixes = tuple(importlib.machinery.all_suffixes())
    for directory in {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}:
        for parent in (directory, os.path.join(directory, "lib-dynload")):
            try:
                entries = os.listdir(parent)
            except OSError:
                continue
            for entry in entries:
                if entry.endswith(suffixes) or (entry.isidentifier() and os.path.isdir(os.path.join(parent, entry))):
                    names.add(entry.split(".")[0])
    names.discard("site-packages")
    return sorted(names)


def pyc_header(source, mode, mtime):
    """The 16-byte pyc header (PEP 552) for ``source`` in invalidation ``mode``."""
    if mode == "timestamp":
        fields = struct.pack("<III", 0, mtime & 0xFFFFFFFF, len(source) & 0xFFFFFFFF)
    else:
        flags = 0b01 | (0b10 if mode == "checked-hash" else 0)
        fields = struct.pack("<I", flags) + importlib.util.source_hash(source)
    return importlib.util.MAGIC_NUMBER + fields


def entry_name(key, data):
    """The compile cache entry file name of ``data`` stored under ``key``.

    The digest covers the key too: an entry renamed to another key, or damaged, no longer
    matches its name, and a reader (hatch_pyc.build.cache) takes it for a miss.
    """
    digest = hashlib.sha256(key.encode() + b"\0" + data).hexdigest()
    return "%s-%s.pyc" % (key[2:], digest)


def store_entry(cache_dir, key, data):
    """Write ``data`` as the compile cache entry of ``key`` in ``cache_dir``; return its path.

    Written beside and renamed into place, so that another build reading the cache sees the
    whole entry or none.
    """
    directory = os.path.join(cache_dir, key[:2])
    entry = os.path.join(directory, entry_name(key, data))
    partial = os.path.join(directory, ".%s.%d.partial" % (os.path.basename(entry), os.getpid()))
    # Private: a cache anyone else can write is not used (hatch_pyc.build.cache.untrusted).
    os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        # Only the owner may write it: a build takes it for a miss otherwise (hatch_pyc.build.cache).
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(partial, flags, 0o600), "wb") as f:
            f.write(data)
        os.replace(partial, entry)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    return entry


def compile_job(job, source, out_dir):
    """Compile ``source``, the bytes of one module, at every requested level; return its result.

    The build read ``source`` once, and keyed the cache with its hash: a file edited while
    the build runs cannot put other bytecode under that key. ``job["pycs"]`` lists ``[level,
    path of the pyc under out_dir, cache key or None]``, and ``job["dfile"]`` becomes every
    code object's ``co_filename``. The code has column positions unless this process was
    started with ``-X no_debug_ranges`` (:data:`COMPILES_WITHOUT_COLUMNS`). Each pyc is
    written once: into the compile cache
    ``job["cache_dir"]`` when it has a key (the build uses the entry), else (or if the
    cache cannot be written) under ``out_dir``. ``files`` in the result says where. Any
    error compiling the module (a SyntaxError, or a RecursionError or MemoryError from a
    source too deeply nested or too big) is reported as ``error``, so the build can list
    every broken module at once.
    """
    result = {"id": job["id"], "files": [], "error": None, "cache_error": None}
    try:
        header = pyc_header(source, job["mode"], job["mtime"])
        for level, relpath, key in job["pycs"]:
            code = compile(source, job["dfile"], "exec", dont_inherit=True, optimize=level)
            data = header + canonical_dumps(code)
            if key is not None and result["cache_error"] is None:
                try:
                    result["files"].append(store_entry(job["cache_dir"], key, data))
                    continue
                except OSError as exc:
                    result["cache_error"] = str(exc)
            target = os.path.join(out_dir, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
            result["files"].append(target)
    except SyntaxError as exc:
        result["error"] = {"line": exc.lineno, "column": exc.offset, "message": exc.msg}
    except Exception as exc:
        message = str(exc) if isinstance(exc, (ValueError, OSError)) else "%s: %s" % (type(exc).__name__, exc)
        result["error"] = {"line": None, "column": None, "message": message}
    return result


def _requests(requests, *sizes):
    """Each request of ``requests``: a JSON line, then one payload of bytes for each field of
    ``sizes``, as long as the field says; yields ``(job, payloads)``."""
    while True:
        line = requests.readline()
        if not line:
            return
        job = json.loads(line)
        payloads = [requests.read(job[size]) for size in sizes]
        if any(len(payloads[index]) != job[size] for index, size in enumerate(sizes)):
            raise EOFError("a request ended before its payload")
        yield job, payloads


def _reply(replies, result):
    replies.write(json.dumps(result).encode() + b"\n")
    replies.flush()


def serve(out_dir, requests, replies):
    """Compile each job of ``requests`` into ``out_dir``, as they come.

    A job is a JSON line, then ``size`` bytes of the module's source. One result line per
    job, in order. One job at a time lets the build hand the next module to whichever worker
    is free, so no worker idles while another still has a queue.
    """
    for job, (source,) in _requests(requests, "size"):
        _reply(replies, compile_job(job, source, out_dir))


#: Characters of an exception's text that a reply carries: a compile error can quote the
#: source (``unknown encoding: <a name of 32 MiB>``), and the checking process keeps every problem.
MAX_SAID = 200


def _said(exc):
    """``Type: text`` of ``exc``, its text cut to :data:`MAX_SAID` characters."""
    text = str(exc)
    if len(text) > MAX_SAID:
        text = "%s... (%d characters)" % (text[:MAX_SAID], len(text))
    return "%s: %s" % (type(exc).__name__, text)


def verify(job, source, pyc):
    """Whether ``pyc`` holds the code this interpreter compiles from ``source``.

    ``job`` gives the ``level`` and the ``dfile`` to compile with. The bytes hatch-pyc would
    write are compared first; failing that (another tool's pyc, another marshal writer),
    their :func:`code_digest`, which covers every field of every code object as stored but
    ``co_filename``, and none of what only the writer's history decides. (Not code equality:
    that reads specialized instructions as their base ones and skips inline caches, the
    stack size and more, and a pyc can hold those.) A hash-based pyc's header must hold
    this interpreter's hash of ``source``. Returns ``{"problem": None}`` when they match,
    else why not; and ``"without_columns": True`` when the pyc has no column positions and
    this process compiles with them: a process started with ``-X no_debug_ranges`` can tell.
    """
    flags = struct.unpack("<I", pyc[4:8])[0]
    if flags & 0b01 and pyc[8:16] != importlib.util.source_hash(source):
        return {"problem": "its header holds the hash of another source"}
    try:
        code = compile(source, job["dfile"], "exec", dont_inherit=True, optimize=job["level"])
    except MemoryError:
        return {"problem": "its source takes more memory to compile than hatch-pyc allows"}
    except Exception as exc:
        return {"problem": "its source does not compile: " + _said(exc)}
    try:
        expected = canonical_dumps(code)
    except Exception as exc:  # nested deeper than marshal, or this module, goes
        return {"problem": "its source's code cannot be written as a pyc: " + _said(exc)}
    if pyc[16:] == expected:
        # The very bytes this interpreter writes: the pyc may serve as a compile cache entry.
        return {"problem": None, "exact": True}
    try:
        shipped = marshal.loads(pyc[16:])
    except Exception as exc:
        return {"problem": "its code does not load: " + _said(exc)}
    try:
        digest = code_digest(pyc[16:])
    except Exception as exc:
        return {"problem": "its marshal data is not as marshal writes it: " + _said(exc)}
    try:
        same = digest == code_digest(expected)
    except Exception as exc:  # its source's code is nested too deeply to be read here
        return {"problem": "its code cannot be compared: " + _said(exc)}
    if same:
        return {"problem": None}
    result = {"problem": "its code is not what its source compiles to"}
    if HAS_COLUMNS and not COMPILES_WITHOUT_COLUMNS and not has_columns(shipped):
        result["without_columns"] = True
    return result


def serve_verify(requests, replies, cpu_base, bytes_per_cpu_second, memory):
    """Answer each verification request: a JSON line, then ``source`` and ``pyc`` bytes of
    the sizes it gives; one JSON line back each, :func:`verify`'s answer.

    Under the limits :func:`serve_filenames` sets, where the system has them (else none):
    compiling a crafted source can take gigabytes (a few MB of short statements) or minutes
    (a set of large ints that all hash alike folds in quadratic time), and the checking
    process sends what a wheel ships. A ``MemoryError`` while compiling is that pyc's
    problem; past the CPU time the kernel ends the process.
    """
    limits = _limits(memory)
    received = 0
    for job, (source, pyc) in _requests(requests, "source_size", "pyc_size"):
        received += len(source) + len(pyc)
        if limits is not None:
            _allow_cpu(limits, cpu_base + received / bytes_per_cpu_second)
        _reply(replies, verify(job, source, pyc))


#: Absolute paths of some machine: POSIX, or a Windows drive.
_BUILD_PATH = re.compile(r"^(/|[A-Za-z]:[\\/])")
#: CPython 3.15's frozendict; dict elsewhere.
_FROZENDICT = getattr(builtins, "frozendict", dict)
#: Code, and the objects marshal can build that hold others, and so may hide code.
_HOLDERS = {types.CodeType, tuple, list, set, frozenset, slice, dict, _FROZENDICT}


def build_path(names):
    """The first of ``names`` that is an absolute path, or None: a ``co_filename`` that names
    the build machine's directory rather than the module."""
    return next((name for name in names if _BUILD_PATH.match(name)), None)


def code_filenames(code):
    """The ``co_filename`` of ``code`` and of every code object inside its constants, sorted,
    and how many items the constants and the containers among them hold.

    Each object is visited once: marshal's back-references can share a constant many times
    over, or make a list that holds itself, and neither may cost more than its size.
    """
    names = set()
    seen = {id(code)}
    stack = [code]
    items = 0
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is types.CodeType:
            names.add(item.co_filename)
            inner = item.co_consts
        elif kind is slice:
            inner = (item.start, item.stop, item.step)
        elif kind in (dict, _FROZENDICT):
            inner = (*item.keys(), *item.values())
        else:
            inner = item
        items += len(inner)
        if _HOLDERS.isdisjoint(map(type, inner)):
            continue  # all plain constants, seen at C speed
        for value in inner:
            if type(value) in _HOLDERS and id(value) not in seen:
                seen.add(id(value))
                stack.append(value)
    return sorted(names), items


#: The marshal header of a tuple of two items (a small tuple, marshal version 4: 3.4 and later)
#: and of a bytes object of 16.
_PAIR = b")\x02"
_BYTES_16 = b"s\x10\x00\x00\x00"
#: Why a pyc whose loading ran out of this process's memory is refused: its data declares
#: sizes it does not hold (a tuple of 2**31 items in 5 bytes).
_TOO_BIG = "loading it takes more memory than hatch-pyc allows: its sizes are not its own"


def read_filenames(data):
    """What :func:`serve_filenames` answers for the marshal ``data`` of one pyc: how many file
    names its code objects carry, the first (sorted), the first absolute one, and how many
    objects its constants hold (for the artifact's budget); or ``error``.

    ``data`` must be exactly one code object, with no bytes after it, which the import system
    would ignore unseen. Loaded as the first item of a pair whose second is random bytes
    written after it, it is: the second item is read where ``data`` ends, and bytes of
    its own there could only be those random bytes by chance (2**-128). Where the pair does
    not load so, ``data`` is loaded alone, and again without its last byte: that it loads
    so means there are bytes after it, and only running out of data (EOFError) that there
    are none.
    """
    sentinel = os.urandom(16)
    try:
        pair = marshal.loads(_PAIR + data + _BYTES_16 + sentinel)
    except Exception:  # MemoryError too: loading it alone decides, below
        pair = None
    if pair is not None and pair[1] == sentinel and type(pair[0]) is types.CodeType:
        code = pair[0]
    else:
        pair = None  # freed before the data is loaded again
        try:
            code = marshal.loads(data)
        except MemoryError:
            return {"error": _TOO_BIG}
        except Exception as exc:
            return {"error": _said(exc)}
        if type(code) is not types.CodeType:
            return {"error": "the marshal data is not a code object but a %s" % type(code).__name__}
        try:
            marshal.loads(memoryview(data)[:-1])
        except EOFError:
            pass  # the code ends where the data does: no limit of this process makes EOFError
        except MemoryError:
            return {"error": _TOO_BIG}
        except Exception as exc:  # some other limit: it does not say where the code ends
            return {"error": "where its code ends cannot be told: " + _said(exc)}
        else:
            return {"error": "bytes after the code object"}
    names, items = code_filenames(code)
    return {"names": len(names), "first": names[0], "absolute": build_path(names), "objects": items}


#: The exit status of a ``--filenames`` worker that cannot limit itself on this system.
NO_LIMITS = 3


def serve_filenames(requests, replies, cpu_base, bytes_per_cpu_second, memory):
    """Answer :func:`read_filenames` for each request (a JSON line with ``size``, then that
    many bytes of marshal data), under limits this process sets on itself first.

    ``marshal.loads`` is not meant for untrusted data: a crafted size allocates what it
    says, and crafted back-references make it hash one large tuple again and again. So
    memory is capped at ``memory`` bytes over what the process holds now, and CPU time at
    ``cpu_base`` seconds plus one for each ``bytes_per_cpu_second`` bytes received so far;
    past either the kernel ends the process, and the reader in the checking process says
    so. A system without these limits gets :data:`NO_LIMITS` and no answer.
    """
    limits = _limits(memory)
    if limits is None:
        return NO_LIMITS
    received = 0
    for _job, (data,) in _requests(requests, "size"):
        received += len(data)
        _allow_cpu(limits, cpu_base + received / bytes_per_cpu_second)
        _reply(replies, read_filenames(data))
    return 0


def _limits(memory):
    """Cap this process's memory at ``memory`` bytes over what it holds now; the resource
    module and the hard CPU limit, for :func:`_allow_cpu`, or None where the system has no
    such limits (or does not say what a process holds)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = held + memory if hard == resource.RLIM_INFINITY else min(held + memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        return resource, resource.getrlimit(resource.RLIMIT_CPU)[1]
    except (ImportError, OSError, ValueError, AttributeError):
        return None


def _allow_cpu(limits, seconds):
    """Let this process use ``seconds`` of CPU time in all, rounded up, under the hard limit."""
    resource, hard = limits
    seconds = int(seconds) + 1
    if hard != resource.RLIM_INFINITY:
        seconds = min(seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, hard))


def main(argv):
    """Worker entry point: ``worker.py --info``, ``--serve OUT_DIR``, ``--verify CPU RATE
    MEMORY`` or ``--filenames CPU RATE MEMORY``.

    ``--info`` prints :func:`interpreter_facts` as JSON; ``--serve`` reads jobs on
    stdin (see :func:`serve`) and writes results on stdout, one JSON line each (ASCII,
    whatever the locale); ``--verify`` answers :func:`serve_verify`'s requests, and
    ``--filenames`` :func:`serve_filenames`'s.
    """
    if argv[1:] == ["--info"]:
        print(json.dumps(interpreter_facts()))
        return 0
    if len(argv) == 3 and argv[1] == "--serve":
        serve(argv[2], sys.stdin.buffer, sys.stdout.buffer)
        return 0
    if len(argv) == 5 and argv[1] == "--verify":
        serve_verify(sys.stdin.buffer, sys.stdout.buffer, float(argv[2]), float(argv[3]), int(argv[4]))
        return 0
    if len(argv) == 5 and argv[1] == "--filenames":
        return serve_filenames(sys.stdin.buffer, sys.stdout.buffer, float(argv[2]), float(argv[3]), int(argv[4]))
    sys.stderr.write("usage: worker.py --info | --serve OUT_DIR | --verify|--filenames CPU RATE MEMORY\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
