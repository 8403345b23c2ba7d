/**
 * A pickle reader that builds values and never runs code: the pickle inside a `.pth` is
 * untrusted input (a crafted one calls os.system on load in Python). Like PyTorch's own
 * `weights_only` unpickler (torch/_weights_only_unpickler.py), it knows a few opcodes and an
 * allow-list of globals; a GLOBAL outside the list is refused where it appears, before any
 * tensor data is read, and nothing the pickle names is ever called: the allowed globals are
 * interpreted by the caller (`Reduce` records what would have been called with what).
 */

/** A global the pickle named (module and name), allowed by the caller. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `callable(*args)` as the pickle asked, never performed here; `state` is what BUILD set. */
export class Reduce {
  state: unknown = undefined;
  constructor(
    readonly callable: PickleGlobal,
    readonly args: unknown[],
  ) {}
}

/** A persistent id (torch.save's storages): resolved by the caller. */
export class PersistentId {
  constructor(readonly id: unknown) {}
}

export class UnsafePickleError extends Error {}

const MARK = Symbol('mark');

export function readPickle(bytes: Uint8Array, allowed: ReadonlySet<string>, what: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new UnsafePickleError(`${what}: the pickle ends inside an opcode at byte ${pos}`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new UnsafePickleError(`${what}: unterminated text in the pickle at byte ${pos}`);
    const text = decoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = () => {
    if (stack.length === 0) throw new UnsafePickleError(`${what}: the pickle pops an empty stack at byte ${pos}`);
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new UnsafePickleError(`${what}: the pickle has no MARK where one is needed (byte ${pos})`);
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const top = () => stack[stack.length - 1];
  const global = (module: string, name: string) => {
    const qualified = `${module}.${name}`;
    if (!allowed.has(qualified)) {
      throw new UnsafePickleError(
        `${what}: refused: the pickle names the global ${qualified}, which a state_dict does not need (a file that runs code when Python loads it looks like this); allowed: ${[...allowed].join(', ')}. Nothing was loaded or run`,
      );
    }
    stack.push(new PickleGlobal(module, name));
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw new UnsafePickleError(`${what}: SETITEM on something that is not a dict`);
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const dictOf = (value: unknown): Map<unknown, unknown> | undefined =>
    value instanceof Map ? value : value instanceof Reduce && value.callable.qualified === 'collections.OrderedDict' ? (value.state as Map<unknown, unknown>) : undefined;

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x63: // GLOBAL
        global(line(), line());
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new UnsafePickleError(`${what}: STACK_GLOBAL without two strings`);
        global(module, name);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(decoder.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x8d: {
        // BINUNICODE8
        const low = u32();
        const high = u32();
        stack.push(decoder.decode(take(high * 2 ** 32 + low)));
        break;
      }
      case 0x54: // BINSTRING
        stack.push(decoder.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = u8();
        const raw = take(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
        if (n > 0 && raw[n - 1] & 0x80) value -= 1n << BigInt(8 * n);
        stack.push(Number(value));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = op === 0x68 ? u8() : u32();
        if (!memo.has(index)) throw new UnsafePickleError(`${what}: the pickle reads memo ${index}, never stored`);
        stack.push(memo.get(index));
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        const target = dictOf(top());
        if (!target) throw new UnsafePickleError(`${what}: SETITEM on something that is not a dict`);
        target.set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const target = dictOf(top());
        if (!target) throw new UnsafePickleError(`${what}: SETITEMS on something that is not a dict`);
        setItems(target, items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) throw new UnsafePickleError(`${what}: APPEND to something that is not a list`);
        list.push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw new UnsafePickleError(`${what}: APPENDS to something that is not a list`);
        list.push(...items);
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal) || !Array.isArray(args)) throw new UnsafePickleError(`${what}: REDUCE of something that is not an allowed global`);
        const reduced = new Reduce(callable, args);
        // An OrderedDict is a dict: later SETITEMs fill it.
        if (callable.qualified === 'collections.OrderedDict') reduced.state = new Map();
        stack.push(reduced);
        break;
      }
      case 0x62: {
        // BUILD: an OrderedDict's state is its attributes (state_dict's _metadata), kept apart from its items
        const state = pop();
        const target = top();
        if (!(target instanceof Reduce)) throw new UnsafePickleError(`${what}: BUILD on something that is not an object`);
        if (target.callable.qualified !== 'collections.OrderedDict') target.state = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(new PersistentId(pop()));
        break;
      default:
        throw new UnsafePickleError(`${what}: the pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}, which no torch.save state_dict does; refused`);
    }
  }
}
