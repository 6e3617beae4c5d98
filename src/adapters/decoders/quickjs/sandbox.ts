/**
 * User payload decoders (TTN convention: `decodeUplink(input)` → `{data, warnings?, errors?}`,
 * `encodeDownlink(input)` → `{bytes, fPort?}`) run in QuickJS compiled to WebAssembly: its own
 * heap and interpreter, no host objects at all (no process, require, fetch, timers: the context
 * holds only the ECMAScript built-ins). Each call has a time limit (the interrupt handler stops
 * a loop after `timeLimitMs`) and the runtime a memory limit (allocation past it throws inside
 * the sandbox). The source is compiled once per profile and the context reused for every message.
 */
import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';
import { PlatformError } from '../../../domain/errors.js';

export interface SandboxLimits {
  /** Wall time one call may take (default 50 ms). */
  readonly timeLimitMs?: number;
  /** Heap of the whole runtime (default 16 MiB). */
  readonly memoryLimitBytes?: number;
}

export interface UplinkInput {
  readonly bytes: readonly number[];
  readonly fPort?: number;
}

export interface DecodedUplink {
  readonly data: Record<string, unknown>;
  readonly warnings?: string[];
  readonly errors?: string[];
}

export interface EncodedDownlink {
  readonly bytes: number[];
  readonly fPort?: number;
}

export interface PayloadSandbox {
  readonly hasEncoder: boolean;
  decodeUplink(input: UplinkInput): DecodedUplink;
  encodeDownlink(input: { data: unknown }): EncodedDownlink;
  dispose(): void;
}

let module: Promise<QuickJSWASMModule> | undefined;

/** The WebAssembly module, loaded once per process (~1 MB, a few ms). */
export function quickJs(): Promise<QuickJSWASMModule> {
  // Warmed once: the first evaluation in a process pays WebAssembly compilation (tens of ms),
  // which must not count against a decoder's time limit.
  module ??= getQuickJS().then((qjs) => {
    qjs.evalCode('[1, 2, 3].map(function (x) { return x * 2; }).join()');
    return qjs;
  });
  return module;
}

const MAX_SOURCE = 64 * 1024;

/**
 * Compiles `source` in a fresh runtime. Throws BAD_REQUEST for a syntax error, a source that
 * loops or allocates at load, or one without `decodeUplink`.
 */
export function compileSandbox(qjs: QuickJSWASMModule, source: string, limits: SandboxLimits = {}): PayloadSandbox {
  if (source.length > MAX_SOURCE) throw new PlatformError('BAD_REQUEST', `decoder source is ${source.length} characters; at most ${MAX_SOURCE}`);
  const timeLimitMs = limits.timeLimitMs ?? 50;
  const runtime: QuickJSRuntime = qjs.newRuntime();
  runtime.setMemoryLimit(limits.memoryLimitBytes ?? 16 * 1024 * 1024);
  runtime.setMaxStackSize(512 * 1024);
  const context: QuickJSContext = runtime.newContext();
  const settle = (result: ReturnType<QuickJSContext['evalCode']>, what: string, limitMs: number): unknown => {
    try {
      if (result.error) {
        const err = context.dump(result.error) as { name?: string; message?: string } | string;
        const text = typeof err === 'string' ? err : `${err.name ?? 'Error'}: ${err.message ?? ''}`;
        // QuickJS reports an interrupt as "InternalError: interrupted" and a full heap as "out of memory".
        if (/interrupted/.test(text)) throw new PlatformError('MALFORMED_PAYLOAD', `${what}: stopped after ${limitMs} ms (time limit)`);
        if (/out of memory/i.test(text)) throw new PlatformError('MALFORMED_PAYLOAD', `${what}: stopped at the memory limit`);
        throw new PlatformError('MALFORMED_PAYLOAD', `${what}: ${text}`);
      }
      return context.dump(result.value);
    } finally {
      result.error?.dispose();
      if (!result.error) result.value.dispose();
    }
  };
  const run = (code: string, what: string, limitMs: number): unknown => {
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limitMs));
    return settle(context.evalCode(code, 'decoder.js'), what, limitMs);
  };
  // One call: the input goes in as a string and is parsed inside, the answer comes out as JSON
  // text; no source is parsed per message (the entry points are compiled once, below).
  let entry: QuickJSHandle | undefined;
  const call = (fn: string, input: unknown): unknown => {
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + timeLimitMs));
    const arg = context.newString(JSON.stringify(input));
    const name = context.newString(fn);
    try {
      const text = settle(context.callFunction(entry as QuickJSHandle, context.undefined, name, arg), fn, timeLimitMs);
      return typeof text === 'string' ? (JSON.parse(text) as unknown) : undefined;
    } finally {
      arg.dispose();
      name.dispose();
    }
  };
  try {
    // Loading gets ten calls' time: a cold WebAssembly start must not fail a good decoder.
    run(source, 'decoder source', timeLimitMs * 10);
    const kinds = run('[typeof decodeUplink, typeof encodeDownlink]', 'decoder source', timeLimitMs * 10) as [string, string];
    const handle = context.evalCode(
      '(function (fns, JSONp, JSONs) { return function (name, text) { var r = fns[name](JSONp(text)); return r === undefined ? undefined : JSONs(r); }; })(' +
        '{ decodeUplink: typeof decodeUplink === "function" ? decodeUplink : null, encodeDownlink: typeof encodeDownlink === "function" ? encodeDownlink : null }, JSON.parse, JSON.stringify)',
    );
    if (handle.error) {
      handle.error.dispose();
      throw new PlatformError('MALFORMED_PAYLOAD', 'decoder source: cannot bind its functions');
    }
    entry = handle.value;
    if (kinds[0] !== 'function') throw new PlatformError('MALFORMED_PAYLOAD', 'decoder source: defines no function decodeUplink(input)');
    const hasEncoder = kinds[1] === 'function';
    return {
      hasEncoder,
      decodeUplink(input) {
        const out = call('decodeUplink', { bytes: [...input.bytes], fPort: input.fPort ?? 1 }) as DecodedUplink | undefined;
        if (typeof out !== 'object' || out === null) throw new PlatformError('MALFORMED_PAYLOAD', 'decodeUplink: returned no object');
        if (Array.isArray(out.errors) && out.errors.length > 0) throw new PlatformError('MALFORMED_PAYLOAD', `decodeUplink: ${out.errors.map(String).join('; ')}`);
        if (typeof out.data !== 'object' || out.data === null || Array.isArray(out.data)) throw new PlatformError('MALFORMED_PAYLOAD', 'decodeUplink: returned no data object');
        return out;
      },
      encodeDownlink(input) {
        if (!hasEncoder) throw new PlatformError('BAD_REQUEST', 'the profile has no encodeDownlink');
        const out = call('encodeDownlink', input) as (EncodedDownlink & { errors?: unknown }) | undefined;
        if (out && Array.isArray(out.errors) && out.errors.length > 0) throw new PlatformError('MALFORMED_PAYLOAD', `encodeDownlink: ${out.errors.map(String).join('; ')}`);
        if (!out || !Array.isArray(out.bytes) || !out.bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
          throw new PlatformError('MALFORMED_PAYLOAD', 'encodeDownlink: bytes must be an array of 0–255 integers');
        }
        return out;
      },
      dispose() {
        entry?.dispose();
        context.dispose();
        runtime.dispose();
      },
    };
  } catch (err) {
    entry?.dispose();
    context.dispose();
    runtime.dispose();
    if (err instanceof PlatformError) throw new PlatformError('BAD_REQUEST', err.detail ?? err.message);
    throw err;
  }
}
