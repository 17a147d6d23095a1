/** The load bench's command-line flags and its rows. */
import { parseArgs } from 'node:util';

export type RowId =
  | 'raw'
  | 'raw-again'
  | 'fetch'
  | 'mesh-request'
  | 'mesh-fetch'
  | 'mesh-full'
  | 'mesh-quiet'
  | 'mesh-otel'
  | 'haproxy-1'
  | 'nginx-1'
  | 'haproxy-2'
  | 'nginx-2';

export const ROW_LABELS: Record<RowId, string> = {
  raw: 'raw undici.request',
  // An A/A control: the raw row again in a process of its own, to show how far
  // two identical rows differ on this machine (only with --rows).
  'raw-again': 'raw undici.request (A/A)',
  fetch: 'global fetch',
  'mesh-request': 'mesh.request',
  'mesh-fetch': 'mesh.fetch',
  'mesh-full': 'mesh.request, full stack',
  'mesh-quiet': 'mesh.request, telemetry off',
  'mesh-otel': 'mesh.request, telemetry fully on',
  'haproxy-1': 'haproxy, 1 hop',
  'nginx-1': 'nginx, 1 hop',
  'haproxy-2': 'haproxy, 2 hops',
  'nginx-2': 'nginx, 2 hops',
};
export const ALL_ROWS = Object.keys(ROW_LABELS) as RowId[];
const DEFAULT_ROWS = ALL_ROWS.filter((id) => id !== 'raw-again');

/**
 * The order rows run in within a round: each pair a target compares stands
 * side by side, and rounds go forwards and backwards in turn, so the pair's
 * runs are moments apart and neither always goes first.
 */
export const RUN_ORDER: RowId[] = [
  'raw',
  'mesh-request',
  'mesh-full',
  'mesh-quiet',
  'mesh-otel',
  'fetch',
  'mesh-fetch',
  'haproxy-2',
  'nginx-2',
  'haproxy-1',
  'nginx-1',
  'raw-again',
];

/** The rows of round `round` (from 1), in the order they run. */
export function roundOrder(rows: RowId[], round: number): RowId[] {
  const ordered = RUN_ORDER.filter((id) => rows.includes(id));
  return round % 2 === 1 ? ordered : ordered.reverse();
}

export const HELP = `npm run bench -- [flags]

Throughput: every row has its own load-generator processes, each warmed up once;
then the rows take turns, one short closed-loop run each per round (forwards,
then backwards), so drift on the machine hits every row alike; per-row
numbers are medians over rounds.
Latency: one probe process holds every row's client and sends at the fixed
rate for one slice per row in turn; samples are pooled per row.
Runs that other processes on the machine disturbed are re-done.

  --quick              CI-sized run (~45 s): 3 rounds of short runs, 1 s per row at a fixed rate
  --duration S         measured seconds per closed-loop run (default 0.75; quick 0.5)
  --rounds N           closed-loop rounds (default 16; quick 3)
  --warmup S           first warm-up of each closed-loop load generator (default 2.5; quick 1.5);
                       the latency probe warms each row for half of it
  --rewarm S           warm-up before every closed-loop run (default 0.15)
  --generators N       load-generator processes per row, taking turns over the rounds
                       (default 3; quick 1): two processes of one client differ in
                       speed for their whole life, so a row's median pools several
  --fixed-duration S   measured seconds per row at the fixed rate (default 6; quick 1)
  --slice MS           the fixed-rate rows take turns in slices of MS milliseconds (default 100)
  --concurrency N      closed-loop concurrency (default 50)
  --rate N             fixed-rate requests per second (default 1000)
  --rows a,b,…         only these rows (raw is always run): ${ALL_ROWS.join(',')}
                       (raw-again: an A/A control, the raw row in a second process)
  --no-fixed           skip the fixed-rate table
  --mesh-lb POLICY     the mesh rows' load-balancer policy (default: the mesh's own
                       default); round-robin matches the raw row's picking
  --pin                pin the load generators to CPU 0 and everything else to the
                       other CPUs with taskset (default off: pinning puts V8's
                       helper threads on the load generator's core)
  --no-install         do not run bench/setup.sh (apt-get install haproxy nginx)
  --json FILE          where to write the JSON results (default bench/results/last.json)
  -h, --help           this text`;

export interface Options {
  quick: boolean;
  concurrency: number;
  rate: number;
  warmupMs: number;
  rewarmMs: number;
  closedMs: number;
  fixedMs: number;
  sliceMs: number;
  rounds: number;
  /** Load-generator processes per row, used in turn across rounds. */
  generators: number;
  fixed: boolean;
  pin: boolean;
  install: boolean;
  rows: RowId[];
  meshLb: string | undefined;
  json: string | undefined;
}

/** Parses argv; prints help or an error and exits on bad input. */
export function parseOptions(argv: string[]): Options {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const seconds = (name: string, value: string | undefined, fallback: number, min: number, max: number) =>
    numberFlag(name, value, fallback, min, max) * 1000;
  const closedMs = seconds('duration', values.duration, quick ? 0.5 : 0.75, 0.1, 120);
  return {
    quick,
    concurrency: Math.round(numberFlag('concurrency', values.concurrency, 50, 1, 1000)),
    rate: Math.round(numberFlag('rate', values.rate, 1000, 1, 20_000)),
    warmupMs: seconds('warmup', values.warmup, quick ? 1.5 : 2.5, 0, 60),
    rewarmMs: seconds('rewarm', values.rewarm, 0.15, 0, 30),
    closedMs,
    fixedMs: seconds('fixed-duration', values['fixed-duration'], quick ? 1 : 6, 0.1, 120),
    sliceMs: Math.round(numberFlag('slice', values.slice, 100, 10, 10_000)),
    rounds: Math.round(numberFlag('rounds', values.rounds, quick ? 3 : 16, 1, 100)),
    generators: Math.round(numberFlag('generators', values.generators, quick ? 1 : 3, 1, 16)),
    fixed: !values['no-fixed'],
    pin: values.pin,
    install: !values['no-install'],
    rows: rowsFlag(values.rows),
    meshLb: values['mesh-lb'],
    json: values.json,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      'fixed-duration': { type: 'string' },
      warmup: { type: 'string' },
      rewarm: { type: 'string' },
      rounds: { type: 'string' },
      generators: { type: 'string' },
      slice: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      rows: { type: 'string' },
      'no-fixed': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      'no-install': { type: 'boolean', default: false },
      'mesh-lb': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${HELP}\n`);
  process.exit(2);
}

function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    fail(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function rowsFlag(value: string | undefined): RowId[] {
  if (value === undefined) return DEFAULT_ROWS;
  const wanted = value.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !ALL_ROWS.includes(w as RowId));
  if (unknown.length > 0) fail(`unknown row(s) ${unknown.join(', ')}; rows are ${ALL_ROWS.join(', ')}`);
  // The "vs raw" columns need the raw row.
  return ALL_ROWS.filter((id) => id === 'raw' || wanted.includes(id));
}
