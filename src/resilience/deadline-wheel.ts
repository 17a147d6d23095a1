/**
 * One timer for every in-flight deadline, per-try timeout, hedge delay and
 * backoff wait. A `setTimeout` per request costs a libuv timer insert, a
 * closure and a clear on the fast path where nearly every deadline is
 * cancelled before it fires; here a request costs one small entry in a heap
 * and, usually, nothing else: the single Node timer is re-armed only when a
 * new entry is due sooner than the one it waits for.
 *
 * Cancelling is lazy (a flag), so it is O(1); dead entries are dropped when
 * they reach the top, and the heap is rebuilt without them once they are more
 * than half of it, which keeps memory bounded when most deadlines are
 * cancelled long before they are due (the common case).
 */
import { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';

export interface TimerEntry<C = unknown> {
  /** Stop the entry from firing. Safe to call more than once, or after it fired. */
  cancel(): void;
  /** The `context` given to `schedule`, so one shared callback can serve many calls. */
  readonly context: C;
}

export interface DeadlineWheelOptions {
  /** Milliseconds on a monotonic clock; defaults to the mesh's monotonic clock (net/monotonic-clock.ts). */
  now?: () => number;
}

/**
 * A new entry due within this much of the armed time rides the armed timer
 * (firing at most this late) rather than paying for a clear and a re-arm.
 */
const COALESCE_MS = 1;

const PENDING = 0;
const FIRED = 1;
const CANCELLED = 2;

class WheelEntry<C> implements TimerEntry<C> {
  state = PENDING;
  constructor(
    readonly at: number,
    /** Breaks ties between equal `at`, so entries due together fire in the order they were scheduled. */
    readonly seq: number,
    public fire: ((entry: TimerEntry<C>) => void) | undefined,
    readonly context: C,
    readonly wheel: DeadlineWheel,
  ) {}

  cancel(): void {
    if (this.state !== PENDING) return;
    this.state = CANCELLED;
    // Dropping the callback lets whatever it closes over be collected now,
    // not when the entry finally leaves the heap.
    this.fire = undefined;
    this.wheel.noteCancelled();
  }
}


export class DeadlineWheel {
  readonly #now: () => number;
  readonly #heap: WheelEntry<unknown>[] = [];
  #cancelled = 0;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  #closed = false;
  // Bound once: arming the timer allocates no closure.
  readonly #onTimer = (): void => this.#fireDue();

  constructor(options: DeadlineWheelOptions = {}) {
    this.#now = options.now ?? monotonicNow;
  }

  /** Call `fire` once at (or at most ~1 ms after) absolute time `at`, on the same clock as `now`. */
  schedule<C = undefined>(at: number, fire: (entry: TimerEntry<C>) => void, context?: C): TimerEntry<C> {
    if (this.#closed) throw new MeshError('MESH_CLOSED', 'cannot schedule a timer on a closed deadline wheel');
    const entry = new WheelEntry<C>(at, this.#seq++, fire, context as C, this);
    this.#push(entry as WheelEntry<unknown>);
    if (at < this.#armedAt - COALESCE_MS) this.#arm(at);
    return entry;
  }

  /** Entries that are still waiting to fire. */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Drop every entry without firing it and release the timer. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    for (const e of this.#heap) {
      e.state = CANCELLED;
      e.fire = undefined;
    }
    this.#heap.length = 0;
    this.#cancelled = 0;
  }

  /** @internal Called by an entry when it is cancelled. */
  noteCancelled(): void {
    this.#cancelled++;
    if (this.#cancelled > this.#heap.length >>> 1) this.#compact();
  }

  #fireDue(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    // Entries scheduled by a callback during this tick wait for the next one,
    // so a callback that reschedules itself "now" cannot spin this loop.
    const firstNew = this.#seq;
    const heap = this.#heap;
    let error: unknown;
    let failed = false;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (top.state === PENDING && (top.at > now || top.seq >= firstNew)) break;
      this.#pop();
      if (top.state === CANCELLED) {
        this.#cancelled--;
        continue;
      }
      const fire = top.fire!;
      top.state = FIRED;
      top.fire = undefined;
      try {
        fire(top);
      } catch (err) {
        // One throwing callback must not strand the others that are due.
        if (!failed) error = err;
        failed = true;
      }
      if (this.#closed) return;
    }
    this.#armForTop();
    if (failed) throw error;
  }

  #armForTop(): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.state === CANCELLED) {
      this.#pop();
      this.#cancelled--;
    }
    const top = heap[0];
    if (top === undefined) this.#disarm();
    else if (top.at < this.#armedAt - COALESCE_MS) this.#arm(top.at);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Rounded up: a timer that fires a fraction early would find nothing due
    // and cost a second wake-up.
    const delay = Math.max(0, Math.ceil(at - this.#now()));
    const t = setTimeout(this.#onTimer, delay);
    t.unref?.();
    this.#timer = t;
    this.#armedAt = at;
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #compact(): void {
    const heap = this.#heap;
    let n = 0;
    // Indexed, not for-of: compaction often runs as Maglev code, which
    // called the array iterator's next() per entry (~90 instructions each,
    // ~360 per request in the full stack under bench:instructions).
    for (let i = 0; i < heap.length; i++) {
      const e = heap[i]!;
      if (e.state === PENDING) heap[n++] = e;
    }
    heap.length = n;
    this.#cancelled = 0;
    for (let i = (n >>> 1) - 1; i >= 0; i--) this.#siftDown(i);
    if (n === 0) this.#disarm();
  }

  #push(entry: WheelEntry<unknown>): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const p = heap[parent]!;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    this.#siftDown(0);
  }

  #siftDown(start: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!before(c, item)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = item;
  }
}

function before(a: WheelEntry<unknown>, b: WheelEntry<unknown>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

let shared: DeadlineWheel | undefined;

/** The process-wide wheel, created on first use (importing this module starts nothing). */
export function sharedWheel(): DeadlineWheel {
  if (shared === undefined || shared.closed) shared = new DeadlineWheel();
  return shared;
}
