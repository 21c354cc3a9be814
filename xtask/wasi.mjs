// Runs a wasm32-wasip1 program in Node.js's V8 with the few WASI calls a
// Rust program that prints and times needs: `node xtask/wasi.mjs
// PROGRAM.wasm [ARGS...]`. `cargo xtask bench --planner` uses it to time the
// planner compiled to wasm in V8, the engine the dashboard runs in.
//
// Written out here rather than taken from `node:wasi`: Node 20's WASI
// crashes the process (SIGBUS) when a program that grew its memory past
// about 100 MiB exits. Files are not offered (no preopened folders), so a
// program's file reads fail as they would for a missing file; every call
// not listed answers EBADF.
import { readFileSync, writeSync } from 'node:fs';
import { getRandomValues } from 'node:crypto';

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error('usage: node xtask/wasi.mjs PROGRAM.wasm [ARGS...]');
  process.exit(2);
}

const SUCCESS = 0;
const EBADF = 8;
const encoder = new TextEncoder();
const argv = [program, ...args].map((arg) => encoder.encode(`${arg}\0`));

class Exit {
  constructor(code) {
    this.code = code;
  }
}

let memory;
const view = () => new DataView(memory.buffer);
const bytes = (at, length) => new Uint8Array(memory.buffer, at, length);

const wasi = {
  args_sizes_get(count, size) {
    view().setUint32(count, argv.length, true);
    view().setUint32(size, argv.reduce((sum, arg) => sum + arg.length, 0), true);
    return SUCCESS;
  },
  args_get(pointers, buffer) {
    let at = buffer;
    argv.forEach((arg, index) => {
      view().setUint32(pointers + 4 * index, at, true);
      bytes(at, arg.length).set(arg);
      at += arg.length;
    });
    return SUCCESS;
  },
  environ_sizes_get(count, size) {
    view().setUint32(count, 0, true);
    view().setUint32(size, 0, true);
    return SUCCESS;
  },
  environ_get: () => SUCCESS,
  random_get(at, length) {
    for (let done = 0; done < length; done += 65536) {
      getRandomValues(bytes(at + done, Math.min(65536, length - done)));
    }
    return SUCCESS;
  },
  // Clock 0 is the wall clock, the others count from an arbitrary start.
  clock_time_get(id, _precision, at) {
    const nanos = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
    view().setBigUint64(at, nanos, true);
    return SUCCESS;
  },
  fd_write(fd, iovs, count, written) {
    if (fd !== 1 && fd !== 2) return EBADF;
    let total = 0;
    for (let index = 0; index < count; index++) {
      const at = view().getUint32(iovs + 8 * index, true);
      const length = view().getUint32(iovs + 8 * index + 4, true);
      total += writeSync(fd, bytes(at, length));
    }
    view().setUint32(written, total, true);
    return SUCCESS;
  },
  proc_exit(code) {
    throw new Exit(code);
  },
};

const module = new WebAssembly.Module(readFileSync(program));
const imports = {};
for (const { module: from, name } of WebAssembly.Module.imports(module)) {
  imports[from] ??= {};
  imports[from][name] = wasi[name] ?? (() => EBADF);
}
const instance = new WebAssembly.Instance(module, imports);
memory = instance.exports.memory;
try {
  instance.exports._start();
} catch (error) {
  if (!(error instanceof Exit)) throw error;
  process.exitCode = error.code;
}
