/**
 * The code node's syntax check on save (docs/api.md §4.3 `code`): the source, wrapped exactly as the
 * sandbox runs it (./wrap.mjs), is compiled — never run — by QuickJS in this process, synchronously,
 * so `validate` can refuse a source that does not compile with QuickJS's message and the source's
 * line. One WebAssembly module, loaded once when this module is first imported, with its memory
 * capped; each check compiles in a fresh context of a runtime with a memory limit, a stack limit and
 * a deadline. Compiling runs none of the user's code, and the source is at most 100,000 characters.
 */
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
  shouldInterruptAfterDeadline,
} from 'quickjs-emscripten-core';
import { FILE_NAME, sourceLine, wrapSource } from './wrap.mjs';

const PAGE = 65536;
/** The compiler's memory as QuickJS counts it, and the module's whole WebAssembly memory. */
const COMPILE_MEMORY_BYTES = 16 * 1048576;
const MODULE_MEMORY_BYTES = 32 * 1048576;
const COMPILE_DEADLINE_MS = 1000;
/** The variant the sandbox threads run (typed as CommonJS by the package: its default is the variant). */
const RELEASE_SYNC = releaseSync as unknown as QuickJSSyncVariant;

async function load(): Promise<QuickJSWASMModule> {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: MODULE_MEMORY_BYTES / PAGE });
  return newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory }));
}

/** The module checks compile in, and a spare that takes over should the first one fail. */
let [module, spare]: (QuickJSWASMModule | undefined)[] = await Promise.all([load(), load()]);
let loading = false;

/**
 * The module failed mid-compile (the host's stack ran out inside it, or it aborted): it is never
 * touched again — freeing its half-built state could trip QuickJS's own checks. The spare takes over
 * and a new spare loads in the background (while none is ready, checks pass).
 */
function replaceModule(): void {
  module = spare;
  spare = undefined;
  if (loading) return;
  loading = true;
  load().then(
    (m) => {
      loading = false;
      if (module) spare = m;
      else module = m;
    },
    () => {
      loading = false;
    },
  );
}

export type SyntaxProblem = { message: string; line?: number };

/**
 * The first syntax error of `source` as the body of the code node's async function, or undefined
 * when it compiles. Synchronous. Should the compiler itself fail (it never has), the source passes:
 * running it reports the same error on the node.
 */
export function checkSyntax(source: string): SyntaxProblem | undefined {
  const m = module;
  if (!m) return undefined;
  let runtime: ReturnType<QuickJSWASMModule['newRuntime']> | undefined;
  let vm: ReturnType<typeof m.newContext> | undefined;
  let problem: SyntaxProblem | undefined;
  try {
    runtime = m.newRuntime();
    runtime.setMemoryLimit(COMPILE_MEMORY_BYTES);
    runtime.setMaxStackSize(512 * 1024);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + COMPILE_DEADLINE_MS));
    vm = runtime.newContext();
    const compiled = vm.evalCode(wrapSource(source), FILE_NAME, { compileOnly: true });
    if (compiled.error) {
      const err = vm.dump(compiled.error);
      compiled.error.dispose();
      const name = err && typeof err === 'object' ? String(err.name ?? 'Error') : 'Error';
      const text = err && typeof err === 'object' ? String(err.message) : String(err);
      problem =
        name === 'InternalError'
          ? { message: `The code is too large or too deeply nested to compile (${text})` }
          : { message: `${name}: ${text}`, line: sourceLine(source, err?.lineNumber ?? err?.stack) };
    } else compiled.value.dispose();
  } catch (err) {
    replaceModule();
    // The host's stack ran out under the compiler: brackets nested some hundreds deep.
    if (err instanceof RangeError) return { message: 'The code is nested too deeply to compile' };
    return undefined;
  }
  vm.dispose();
  runtime.dispose();
  return problem;
}
