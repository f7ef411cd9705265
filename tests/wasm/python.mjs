// A `python` command backed by a WebAssembly build of CPython (Pyodide) under Node.js.
//
//   node python.mjs VERSION [option...] (SCRIPT | -c CODE | -m MODULE) [arg...]
//
// VERSION is 314 or 315: which pyodide package of this directory to run. The tests compile
// wheels for Pyodide with it (the hook's target interpreter). It runs
// what hatch-pyc's worker and the tests ask of a `python`: interpreter options (-I, -B,
// -X ...) go to CPython's own startup; stdin, stdout and stderr are the process's, as
// bytes; the host's directories are visible at their own paths; the exit status is the
// script's. It cannot start processes.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [version, ...argv] = process.argv.slice(2);
const { loadPyodide } = require(`pyodide${version}`);

// Interpreter options come before the script, -c or -m; -X and -W take a value.
const options = [];
let index = 0;
while (index < argv.length && argv[index].startsWith("-") && argv[index] !== "-c" && argv[index] !== "-m") {
  const option = argv[index++];
  options.push(option);
  if ((option === "-X" || option === "-W") && index < argv.length) options.push(argv[index++]);
}
const isolated = options.some((o) => /^-[A-Za-z]*I/.test(o) && !o.startsWith("-X") && !o.startsWith("-W"));
const rest = argv.slice(index);
let run;
if (rest[0] === "-c") run = { kind: "code", what: rest[1], args: ["-c", ...rest.slice(2)] };
else if (rest[0] === "-m") run = { kind: "module", what: rest[1], args: [rest[1], ...rest.slice(2)] };
else if (rest.length) run = { kind: "path", what: path.resolve(rest[0]), args: rest };
else {
  process.stderr.write("python.mjs: give a script, -c CODE or -m MODULE\n");
  process.exit(2);
}

const env = {};
for (const [key, value] of Object.entries(process.env)) {
  if (key === "HOME" || (key.startsWith("PYTHON") && !isolated)) env[key] = value;
}

// The host's top-level directories that hold what Python is asked to read or write (the
// working directory, paths in the arguments, temporary files, the home directory), mounted
// at their own paths. Pyodide's own /lib (the standard library), /dev and /proc stay.
const own = new Set(["lib", "dev", "proc"]);
const tops = new Set();
for (const candidate of [process.cwd(), "/tmp", ...rest, ...Object.values(env)]) {
  for (const piece of String(candidate).split(":")) {
    if (!path.isAbsolute(piece)) continue;
    const top = piece.split("/")[1];
    if (top && !own.has(top) && fs.existsSync(`/${top}`) && fs.statSync(`/${top}`).isDirectory()) tops.add(top);
  }
}
// Pyodide starts in its home directory (and makes one if HOME is not set): out of the way.
const pyodide = await loadPyodide({ args: options, env, stdout: () => {}, stderr: () => {} });
pyodide.FS.chdir("/");
for (const top of tops) {
  const mount = `/${top}`;
  if (pyodide.FS.analyzePath(mount).exists) {
    for (const name of pyodide.FS.readdir(mount)) {
      if (name !== "." && name !== "..") pyodide.FS.rmdir(`${mount}/${name}`);
    }
  }
  pyodide.mountNodeFS(mount, mount);
}

pyodide.setStdin({
  read(buffer) {
    try {
      return fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if (error.code === "EOF") return 0;
      throw error;
    }
  },
});
const writer = (fd) => ({ isatty: false, write: (buffer) => fs.writeSync(fd, buffer) });
pyodide.setStdout(writer(1));
pyodide.setStderr(writer(2));

pyodide.globals.set("_run", pyodide.toPy(run));
pyodide.globals.set("_cwd", process.cwd());
pyodide.globals.set("_isolated", isolated);
const status = pyodide.runPython(`
import importlib, os, runpy, sys, traceback

def _main(run, cwd, isolated):
    os.chdir(cwd)
    # Finders made at startup saw the directories before they were mounted.
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    sys.argv = list(run["args"])
    sys.executable = ""
    try:
        if run["kind"] == "code":
            if not isolated:
                sys.path.insert(0, "")
            exec(compile(run["what"], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        elif run["kind"] == "module":
            if not isolated:
                sys.path.insert(0, cwd)
            runpy.run_module(run["what"], run_name="__main__", alter_sys=True)
        else:
            import zipfile

            # As python does: a zipapp's or directory's own path goes first (runpy puts it
            # there); a script's directory, unless isolated.
            if not isolated and os.path.isfile(run["what"]) and not zipfile.is_zipfile(run["what"]):
                sys.path.insert(0, os.path.dirname(run["what"]))
            runpy.run_path(run["what"], run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0

_main(_run, _cwd, _isolated)
`);
process.exit(status);
