// Install wheels with micropip in Pyodide under Node.js, then run Python code, as a browser would.
//
//   node micropip.mjs VERSION MICROPIP_WHEEL CODE WHEEL...
//
// VERSION is 314 or 315 (which pyodide package of this directory). MICROPIP_WHEEL is the
// micropip wheel that version's pyodide-lock.json names (the npm package ships without it).
// Each WHEEL is installed with `micropip.install("emfs:...")`, its directory mounted at its
// own path; then CODE runs. stdout and stderr are the process's; the exit status is 0, or 1
// with the traceback on stderr.
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [version, micropip, code, ...wheels] = process.argv.slice(2);
const { loadPyodide } = require(`pyodide${version}`);
const pyodide = await loadPyodide({
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
const mounted = new Set();
for (const file of [micropip, ...wheels]) {
  const directory = path.dirname(path.resolve(file));
  if (mounted.has(directory)) continue;
  pyodide.FS.mkdirTree(directory);
  pyodide.mountNodeFS(directory, directory);
  mounted.add(directory);
}
await pyodide.loadPackage(path.resolve(micropip), { messageCallback: () => {} });
pyodide.globals.set("_wheels", pyodide.toPy(wheels.map((w) => "emfs:" + path.resolve(w))));
pyodide.globals.set("_code", code);
try {
  await pyodide.runPythonAsync(`
import micropip
for _wheel in _wheels:
    await micropip.install(_wheel, deps=False)
exec(compile(_code, "<string>", "exec"), {"__name__": "__main__"})
`);
} catch (error) {
  process.stderr.write(String(error.message || error) + "\n");
  process.exit(1);
}
