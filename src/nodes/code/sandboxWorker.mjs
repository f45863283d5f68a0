// The code node's sandbox thread (docs/api.md §4.3 `code`): runs one job at a time in QuickJS
// compiled to WebAssembly — never in Node's own VM. Plain JavaScript, so the thread needs no
// TypeScript loader. Each job gets a fresh QuickJS runtime with its memory limit and a deadline;
// the WebAssembly memory of the module it runs in is capped too (QuickJS does not count every
// allocation, e.g. array storage), so no job grows the process past memory_mb + MODULE_OVERHEAD.
import { parentPort } from 'node:worker_threads';
import RELEASE_SYNC from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  shouldInterruptAfterDeadline,
} from 'quickjs-emscripten-core';

const PAGE = 65536;
/** QuickJS's own needs beside the job's memory, in MiB. */
const MODULE_OVERHEAD_MB = 16;
/** A module whose memory grew past this (a job used much of its limit) is dropped after the job. */
const KEEP_BELOW_BYTES = 48 * 1048576;
const MAX_LOG_LINES = 100;
const MAX_LOG_BYTES = 16 * 1024;

/** One module per memory limit, kept while it stays small (WebAssembly memory never shrinks). */
const modules = new Map();

async function moduleFor(memoryMb) {
  const cached = modules.get(memoryMb);
  if (cached) return cached;
  const maximum = Math.ceil(((memoryMb + MODULE_OVERHEAD_MB) * 1048576) / PAGE);
  const memory = new WebAssembly.Memory({ initial: Math.min(256, maximum), maximum });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory }));
  const entry = { module, memory };
  modules.set(memoryMb, entry);
  return entry;
}

function formatArg(v) {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The user's line of a QuickJS stack ("at … (code.js:3:16)"): the wrapper takes the first line. */
function lineOf(stack) {
  const m = /code\.js:(\d+)(?::\d+)?/.exec(String(stack ?? ''));
  return m ? Number(m[1]) - 1 : undefined;
}

async function run(job) {
  const logs = [];
  let logBytes = 0;
  let logsCut = false;
  const { module, memory } = await moduleFor(job.memoryMb);
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(job.memoryMb * 1048576);
  runtime.setMaxStackSize(1024 * 1024);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + job.timeoutMs));
  const vm = runtime.newContext();
  try {
    const consoleObj = vm.newObject();
    for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
      const fn = vm.newFunction(level, (...args) => {
        const line = args.map((h) => formatArg(vm.dump(h))).join(' ');
        if (logs.length >= MAX_LOG_LINES || logBytes + line.length > MAX_LOG_BYTES) logsCut = true;
        else {
          logs.push(level === 'log' ? line : `[${level}] ${line}`);
          logBytes += line.length;
        }
      });
      vm.setProp(consoleObj, level, fn);
      fn.dispose();
    }
    vm.setProp(vm.global, 'console', consoleObj);
    consoleObj.dispose();
    const inputText = vm.newString(job.input);
    vm.setProp(vm.global, '__hookflow_input', inputText);
    inputText.dispose();

    // The user's source is the body of an async function of `input`; line 1 of it is line 2 here.
    const wrapped = `(function () { "use strict"; const input = JSON.parse(globalThis.__hookflow_input); delete globalThis.__hookflow_input; return (async function (input) {\n${job.source}\n})(input); })()`;
    const evaluated = vm.evalCode(wrapped, 'code.js');
    if (evaluated.error)
      return { ok: false, error: describeError(dumpOf(vm, evaluated.error), job), logs, logsCut };
    // Settle the promise: there are no timers or I/O, so its jobs are all there is to run.
    const pending = runtime.executePendingJobs();
    if (pending.error) {
      const err = dumpOf(vm, pending.error);
      evaluated.value.dispose();
      return { ok: false, error: describeError(err, job), logs, logsCut };
    }
    const state = vm.getPromiseState(evaluated.value);
    evaluated.value.dispose();
    if (state.type === 'pending') {
      return {
        ok: false,
        error: 'The code awaited something that never settles (there are no timers or I/O)',
        logs,
        logsCut,
      };
    }
    if (state.type === 'rejected')
      return { ok: false, error: describeError(dumpOf(vm, state.error), job), logs, logsCut };
    vm.setProp(vm.global, '__hookflow_result', state.value);
    state.value.dispose();
    const text = vm.evalCode('JSON.stringify(globalThis.__hookflow_result) ?? "null"', 'result.js');
    if (text.error) {
      const err = dumpOf(vm, text.error);
      return {
        ok: false,
        error: `The code returned a value that is not JSON: ${err?.message ?? err}`,
        logs,
        logsCut,
      };
    }
    const json = vm.dump(text.value);
    text.value.dispose();
    return { ok: true, value: json, logs, logsCut };
  } finally {
    vm.dispose();
    runtime.dispose();
    if (memory.buffer.byteLength > KEEP_BELOW_BYTES) modules.delete(job.memoryMb);
  }
}

/** The host copy of a handle, disposing it. */
function dumpOf(vm, handle) {
  const value = vm.dump(handle);
  handle.dispose();
  return value;
}

function describeError(err, job) {
  const message = err && typeof err === 'object' ? err.message : String(err);
  const name = err && typeof err === 'object' ? err.name : undefined;
  if (name === 'InternalError' && message === 'interrupted')
    return `Code ran longer than ${job.timeoutMs} ms`;
  if (name === 'InternalError' && message === 'out of memory')
    return `Code used more than its ${job.memoryMb} MB of memory`;
  if (name === 'InternalError' && message === 'stack overflow')
    return 'Code overflowed the stack (too deep a recursion)';
  const line = err && typeof err === 'object' ? lineOf(err.stack) : undefined;
  const text = name && name !== 'Error' ? `${name}: ${message}` : message;
  return line && line > 0 ? `${text} (line ${line})` : text;
}

parentPort.on('message', async (job) => {
  let answer;
  try {
    answer = await run(job);
  } catch (err) {
    // The WebAssembly module itself failed (an abort): drop every module, answer the job.
    modules.clear();
    const message = err instanceof Error ? err.message : String(err);
    answer = {
      ok: false,
      error: /out of memory|Cannot enlarge memory|memory access out of bounds/i.test(message)
        ? `Code used more than its ${job.memoryMb} MB of memory`
        : `The sandbox failed: ${message}`,
      logs: [],
    };
  }
  parentPort.postMessage({ id: job.id, ...answer });
});
