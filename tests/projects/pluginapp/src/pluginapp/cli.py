"""``pluginapp``: its plugins, found by file; ``pluginapp plant NAME``: whether a module written
beside the package's directory on ``sys.path`` is then importable."""

import importlib
import inspect
import os
import pkgutil
import sys

import pluginapp
from pluginapp import plugins


def module_of(file):
    """The module name of ``file``, from the entry of ``sys.path`` that holds it (astroid's
    ``modpath_from_file``)."""
    file = os.path.abspath(file)
    for entry in sys.path:
        entry = os.path.abspath(entry)
        if entry and file.startswith(entry.rstrip(os.sep) + os.sep):
            parts = os.path.relpath(file, entry).split(os.sep)
            parts[-1] = inspect.getmodulename(parts[-1])
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise SystemExit(f"no entry of sys.path holds {file}")


def main():
    if sys.argv[1:2] == ["plant"]:
        return plant(sys.argv[2])
    directory = os.path.dirname(plugins.__file__)
    found = set()
    for name in os.listdir(directory):  # greet.py installed, greet.pyc in a bundle
        if inspect.getmodulename(name) not in (None, "__init__"):
            found.add(module_of(os.path.join(directory, name)))
    for name in sorted(found):
        module = importlib.import_module(name)
        print(f"{module.__name__}: {module.NAME}")
    print("itself:", module_of(__file__), module_of(pluginapp.__file__))
    print("iter_modules:", [found.name for found in pkgutil.iter_modules(plugins.__path__)])
    print("walk_packages:", [found.name for found in pkgutil.walk_packages(pluginapp.__path__, "pluginapp.")])
    print("on sys.path:", "pluginapp" in {found.name for found in pkgutil.iter_modules()})
    return 0


def plant(name):
    """Write module ``name`` into the directory on ``sys.path`` that holds this package, and
    say whether it is then importable and listed."""
    package = os.path.dirname(os.path.abspath(pluginapp.__file__))
    with open(os.path.join(os.path.dirname(package), name + ".py"), "w") as out:
        out.write("print('planted code ran')\n")
    importlib.invalidate_caches()
    try:
        importlib.import_module(name)
    except ImportError:
        print(f"{name}: not importable")
    else:
        print(f"{name}: imported")
    print("listed:", name in {found.name for found in pkgutil.iter_modules()})
    return 0
