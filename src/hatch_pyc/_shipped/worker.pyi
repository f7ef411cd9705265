# Types of worker.py, which runs under the target interpreter (CPython 3.8 and newer) and
# so carries no annotations of its own: the requests and replies of its protocol (stated at
# the top of worker.py), for the build side to check.
from types import CodeType
from typing import Any, BinaryIO, TypedDict

FLAG_REF: int

class CompileJob(TypedDict):
    """A ``--serve`` request; ``size`` bytes of source follow its line."""

    #: The request's number, which its result repeats.
    id: int
    display: str
    #: The code's co_filename.
    dfile: str
    #: ``[optimize level, path of the pyc under out_dir, cache key or None]`` of each pyc.
    pycs: list[list[Any]]
    mode: str
    debug_ranges: bool
    mtime: int
    cache_dir: str | None

class CompileRequest(CompileJob):
    size: int

class VerifyRequest(TypedDict):
    """A ``--verify`` request; ``source_size`` bytes of source, then ``pyc_size`` of pyc follow."""

    level: int
    dfile: str
    source_size: int
    pyc_size: int

class FilenamesRequest(TypedDict):
    """A ``--filenames`` request; ``size`` bytes of marshal data follow."""

    size: int

class CompileError(TypedDict):
    line: int | None
    column: int | None
    message: str

class CompileResult(TypedDict):
    #: The request's number.
    id: int
    #: Where each requested pyc was written: the cache entry, or a file under out_dir.
    files: list[str]
    error: CompileError | None
    cache_error: str | None

def code_layout(version: tuple[int, int], implementation: str = ...) -> tuple[int, int, int, int]: ...
def canonicalize(data: bytes, version: tuple[int, int] | None = ..., implementation: str | None = ...) -> bytes: ...
def code_digest(data: bytes, version: tuple[int, int] | None = ..., implementation: str | None = ...) -> bytes: ...
def canonical_dumps(code: CodeType) -> bytes: ...

FREE_THREADED: bool

def interpreter_info() -> dict[str, Any]: ...

# The marshal type codes, which hatch_pyc.check.bytecode reads by too.
_SINGLETONS: set[int]
_FIXED_SIZE: dict[int, int]
_SIZED: set[int]
_SHORT_SIZED: set[int]
_SEQUENCES: set[int]
_SMALL_TUPLE: int
_NULL: int
_REF: int
_CODE: int
_LONG: int
_OLD_FLOAT: int
_OLD_COMPLEX: int
_SLICE: int

PROTOCOL: int

def interpreter_facts() -> dict[str, Any]: ...
def stdlib_names() -> list[str]: ...
def pyc_header(source: bytes, mode: str, mtime: int) -> bytes: ...
def entry_name(key: str, data: bytes) -> str: ...
def store_entry(cache_dir: str, key: str, data: bytes) -> str: ...
def compile_job(job: CompileJob, source: bytes, out_dir: str) -> CompileResult: ...
def serve(out_dir: str, requests: BinaryIO, replies: BinaryIO) -> None: ...

class Verdict(TypedDict, total=False):
    problem: str | None
    without_columns: bool
    exact: bool

HAS_COLUMNS: bool
COMPILES_WITHOUT_COLUMNS: bool

def has_columns(code: CodeType) -> bool: ...
def verify(job: VerifyRequest, source: bytes, pyc: bytes) -> Verdict: ...
def serve_verify(
    requests: BinaryIO, replies: BinaryIO, cpu_base: float, bytes_per_cpu_second: float, memory: int
) -> None: ...
def main(argv: list[str]) -> int: ...
def build_path(names: list[str]) -> str | None: ...
def code_filenames(code: CodeType) -> tuple[list[str], int]: ...

class FilenamesReply(TypedDict, total=False):
    #: How many distinct file names the code objects carry, the first of them (sorted),
    #: and the first absolute one.
    names: int
    first: str
    absolute: str | None
    #: How many objects the constants hold, counted against the artifact's budget.
    objects: int
    #: Why the data is not one code object.
    error: str

def read_filenames(data: bytes) -> FilenamesReply: ...

NO_LIMITS: int

def serve_filenames(
    requests: BinaryIO, replies: BinaryIO, cpu_base: float, bytes_per_cpu_second: float, memory: int
) -> int: ...
