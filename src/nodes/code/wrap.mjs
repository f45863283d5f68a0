// The code node's source as QuickJS runs it (docs/api.md §4.3 `code`): the body of an async function
// of `input`, in strict mode. Shared by the sandbox thread (sandboxWorker.mjs), which runs it, and the
// syntax check on save (syntax.ts), which compiles it: one wrapper, so both report the same lines.
// Plain JavaScript, so the sandbox thread needs no TypeScript loader.

/** The file name QuickJS puts in stacks and syntax errors. */
export const FILE_NAME = 'code.js';

/**
 * The program for one run of `source`: it parses the input from a global that it then removes, runs
 * the source as the body of an async function of `input` and settles to `[json]` (the returned value
 * as JSON text, `"null"` for nothing) or `[undefined, message]` when that value is not JSON. Line 1
 * of the source is line 2 of the program; nothing but the source is on its lines.
 */
export function wrapSource(source) {
  return (
    '(function () { "use strict"; const input = JSON.parse(globalThis.__hookflow_input); delete globalThis.__hookflow_input; return (async function (input) {\n' +
    source +
    '\n})(input).then(function (value) { try { return [JSON.stringify(value) ?? "null"]; } catch (err) { return [undefined, String(err && err.message || err)]; } }); })()'
  );
}

/**
 * The source's own line for a line of the program (QuickJS's `lineNumber`, or the first `code.js:N`
 * of a stack), clamped to the source's lines: an error at the wrapper's closing line (say, a brace
 * never closed) is reported on the source's last line. Undefined when there is none.
 */
export function sourceLine(source, lineOrStack) {
  let line = typeof lineOrStack === 'number' ? lineOrStack : undefined;
  if (line === undefined) {
    const m = /code\.js:(\d+)(?::\d+)?/.exec(String(lineOrStack ?? ''));
    line = m ? Number(m[1]) : undefined;
  }
  if (line === undefined || !Number.isFinite(line)) return undefined;
  const lines = String(source).split('\n').length;
  const own = line - 1;
  if (own < 1) return undefined;
  return Math.min(own, lines);
}
