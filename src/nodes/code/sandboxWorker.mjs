// The code node's sandbox thread (docs/api.md §4.3 `code`): runs jobs one at a time, in the order
// they came, in QuickJS compiled to WebAssembly — never in Node's own VM. Plain JavaScript, so the
// thread needs no TypeScript loader.
//
// Per memory limit the thread keeps one WebAssembly module, its memory capped (QuickJS does not
// count every allocation, e.g. array storage, so no job grows the process past memory_mb +
// MODULE_OVERHEAD_MB), and one QuickJS runtime, reused by job after job. Every job gets a fresh
// context — its own global object and built-ins, nothing of an earlier job's — with the job's memory
// limit and deadline set on the runtime before it starts. A runtime that a job left in doubt (out of
// memory, interrupted, a stack overflow, promise jobs still queued, the module failed) is thrown
// away, and so is a module whose memory grew large; the next job makes new ones.
//
// Jobs arrive, in lists, on the port the pool gives in `workerData`, and each answer goes back on it:
// the pool can then read answers already sent even while its own event loop was busy.
import { parentPort, workerData } from 'node:worker_threads';
import RELEASE_SYNC from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  shouldInterruptAfterDeadline,
} from 'quickjs-emscripten-core';
import { FILE_NAME, sourceLine, wrapSource } from './wrap.mjs';

const port = workerData?.port ?? parentPort;
const PAGE = 65536;
/** QuickJS's own needs beside the job's memory, in MiB. */
const MODULE_OVERHEAD_MB = 16;
/** A module whose memory grew past this (a job used much of its limit) is dropped after the job. */
const KEEP_BELOW_BYTES = 48 * 1048576;
/** A runtime is renewed after this many jobs (whatever a long series of contexts leaves behind). */
const RUNTIME_JOBS = 1000;
const MAX_LOG_LINES = 100;
const MAX_LOG_BYTES = 16 * 1024;
const LEVELS = ['log', 'info', 'warn', 'error', 'debug'];

/** One module (and its runtime) per memory limit, kept while it stays small (WebAssembly memory never shrinks). */
const modules = new Map();

async function moduleFor(memoryMb) {
  const cached = modules.get(memoryMb);
  if (cached) return cached;
  const maximum = Math.ceil(((memoryMb + MODULE_OVERHEAD_MB) * 1048576) / PAGE);
  const memory = new WebAssembly.Memory({ initial: Math.min(256, maximum), maximum });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory }));
  const entry = { module, memory, runtime: undefined, jobs: 0 };
  modules.set(memoryMb, entry);
  return entry;
}

function runtimeOf(entry) {
  if (!entry.runtime) {
    entry.runtime = entry.module.newRuntime();
    entry.runtime.setMaxStackSize(1024 * 1024);
    entry.jobs = 0;
  }
  entry.jobs++;
  return entry.runtime;
}

function dropRuntime(entry) {
  const runtime = entry.runtime;
  entry.runtime = undefined;
  try {
    runtime?.dispose();
  } catch {
    // A runtime the module can no longer free: the module goes with it.
    modules.forEach((e, key) => {
      if (e === entry) modules.delete(key);
    });
  }
}

function formatArg(v) {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function run(entry, job) {
  const logs = [];
  let logBytes = 0;
  let logsCut = false;
  const runtime = runtimeOf(entry);
  runtime.setMemoryLimit(job.memoryMb * 1048576);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + job.timeoutMs));
  const vm = runtime.newContext();
  /** Whether the runtime may serve the next job. */
  let clean = false;
  /** The WebAssembly code threw (say, the host's stack ran out): nothing of this module is touched again. */
  let broken = false;
  try {
    const consoleObj = vm.newObject();
    for (const level of LEVELS) {
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

    const evaluated = vm.evalCode(wrapSource(job.source), FILE_NAME);
    if (evaluated.error) {
      const err = dumpOf(vm, evaluated.error);
      clean = !isLimit(err);
      return { ok: false, error: describeError(err, job), logs, logsCut };
    }
    // Settle the promise: there are no timers or I/O, so its jobs are all there is to run.
    const pending = runtime.executePendingJobs();
    if (pending.error) {
      const err = dumpOf(vm, pending.error);
      evaluated.value.dispose();
      return { ok: false, error: describeError(err, job), logs, logsCut };
    }
    const state = vm.getPromiseState(evaluated.value);
    // (not a promise only when the source broke out of its wrapper: then it is the value itself)
    if (!state.notAPromise) evaluated.value.dispose();
    clean = !runtime.hasPendingJob();
    if (state.type === 'pending') {
      return {
        ok: false,
        error: 'The code awaited something that never settles (there are no timers or I/O)',
        logs,
        logsCut,
      };
    }
    if (state.type === 'rejected') {
      const err = dumpOf(vm, state.error);
      if (isLimit(err)) clean = false;
      return { ok: false, error: describeError(err, job), logs, logsCut };
    }
    // The wrapper settles to [json] or [undefined, why the value is not JSON].
    const settled = dumpOf(vm, state.value);
    if (Array.isArray(settled) && typeof settled[0] === 'string')
      return { ok: true, value: settled[0], logs, logsCut };
    const why = Array.isArray(settled) && typeof settled[1] === 'string' ? settled[1] : 'not JSON text';
    return { ok: false, error: `The code returned a value that is not JSON: ${why}`, logs, logsCut };
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    if (broken) {
      // Unwound mid-operation: freeing its objects could trip QuickJS's own checks. Let it all go.
      entry.runtime = undefined;
      modules.forEach((e, key) => {
        if (e === entry) modules.delete(key);
      });
    } else {
      vm.dispose();
      if (!clean || entry.jobs >= RUNTIME_JOBS) dropRuntime(entry);
    }
    if (!broken && entry.memory.buffer.byteLength > KEEP_BELOW_BYTES) {
      dropRuntime(entry);
      modules.delete(job.memoryMb);
    }
  }
}

/** The host copy of a handle, disposing it. */
function dumpOf(vm, handle) {
  const value = vm.dump(handle);
  handle.dispose();
  return value;
}

/** An error of a limit (time, memory, stack): the runtime that raised it is not reused. */
function isLimit(err) {
  return !!err && typeof err === 'object' && err.name === 'InternalError';
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
  const line =
    err && typeof err === 'object'
      ? sourceLine(job.source, name === 'SyntaxError' && err.lineNumber ? err.lineNumber : err.stack)
      : undefined;
  const text = name && name !== 'Error' ? `${name}: ${message}` : message;
  return line ? `${text} (line ${line})` : text;
}

async function runJob(job) {
  try {
    return run(await moduleFor(job.memoryMb), job);
  } catch (err) {
    // The WebAssembly module itself failed (an abort, the host's stack): drop every module, answer the job.
    modules.clear();
    const message = err instanceof Error ? err.message : String(err);
    let error = `The sandbox failed: ${message}`;
    if (/out of memory|Cannot enlarge memory|memory access out of bounds/i.test(message))
      error = `Code used more than its ${job.memoryMb} MB of memory`;
    // The thread's own stack ran out under QuickJS (nesting or recursion deeper than it checks).
    else if (err instanceof RangeError && /call stack/i.test(message))
      error = 'Code overflowed the stack (too deep a recursion)';
    return { ok: false, error, logs: [] };
  }
}

// Jobs run strictly one after the other, in the order they were sent.
const queue = [];
let draining = false;

async function drain() {
  draining = true;
  await prewarm;
  while (queue.length) {
    const job = queue.shift();
    const started = performance.now();
    const answer = await runJob(job);
    port.postMessage({ id: job.id, ms: performance.now() - started, ...answer });
  }
  draining = false;
}

// The module for the default memory limit loads at once: the thread's first job does not wait for it.
const prewarm = moduleFor(32).catch(() => modules.delete(32));

// A message is a list of jobs (those the pool placed here in one go).
port.on('message', (jobs) => {
  for (const job of Array.isArray(jobs) ? jobs : [jobs]) queue.push(job);
  if (!draining) void drain();
});
