import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  isMeshError,
  MeshError,
  type MeshErrorCode,
} from '../../src/errors.js';

const ERRORS_TS = fileURLToPath(new URL('../../src/errors.ts', import.meta.url));
const ERRORS_MD = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));
const CODES = Object.keys(ERROR_CODES) as MeshErrorCode[];

describe('MeshError', () => {
  it.each(CODES)('%s carries its row of the table', (code) => {
    const spec = ERROR_CODES[code];
    const err = new MeshError(code, 'boom');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('MeshError');
    expect(err.message).toBe('boom');
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(spec.retryable);
    expect(err.httpStatus).toBe(spec.httpStatus);
    expect(err.grpcStatus).toBe(spec.grpcStatus);
    expect(err.responseFlag).toBe(spec.responseFlag);
    expect(httpStatusOf(err)).toBe(spec.httpStatus);
    expect(grpcStatusOf(err)).toBe(spec.grpcStatus);
    expect(isMeshError(err)).toBe(true);
  });

  it('maps the codes the adapters depend on to the expected statuses', () => {
    expect(ERROR_CODES.MESH_NO_HEALTHY_UPSTREAM).toMatchObject({
      httpStatus: 503,
      grpcStatus: GrpcStatus.UNAVAILABLE,
      responseFlag: 'UH',
      retryable: true,
    });
    expect(ERROR_CODES.MESH_ABORTED).toMatchObject({ httpStatus: 499, grpcStatus: GrpcStatus.CANCELLED, retryable: false });
    expect(ERROR_CODES.MESH_CONFIG_INVALID).toMatchObject({ grpcStatus: GrpcStatus.INVALID_ARGUMENT, retryable: false });
  });

  it('uses only gRPC status numbers that GrpcStatus names, and three-digit HTTP statuses', () => {
    const known = new Set<number>(Object.values(GrpcStatus));
    for (const code of CODES) {
      expect(known.has(ERROR_CODES[code].grpcStatus), code).toBe(true);
      expect(ERROR_CODES[code].httpStatus, code).toBeGreaterThanOrEqual(400);
      expect(ERROR_CODES[code].httpStatus, code).toBeLessThan(600);
      expect(code, code).toMatch(/^MESH_[A-Z_]+$/);
    }
  });

  it('lets one instance override retryability', () => {
    expect(new MeshError('MESH_UPSTREAM_RESET', 'reset', { retryable: false }).retryable).toBe(false);
    expect(new MeshError('MESH_CLOSED', 'closed', { retryable: true }).retryable).toBe(true);
  });

  it('keeps cause and details', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new MeshError('MESH_CONNECT_FAILURE', 'connect failed', {
      cause,
      details: { service: 'reviews', endpoint: '10.0.0.1:9080' },
    });
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ service: 'reviews', endpoint: '10.0.0.1:9080' });
  });

  it('has no cause property at all when none is given', () => {
    const err = new MeshError('MESH_CLOSED', 'closed');
    expect('cause' in err).toBe(false);
    expect(err.details).toBeUndefined();
  });

  it('gives non-mesh errors 500 and UNKNOWN', () => {
    for (const value of [new Error('x'), new TypeError('fetch failed'), 'string', undefined, null, { code: 'ECONNRESET' }]) {
      expect(httpStatusOf(value)).toBe(500);
      expect(grpcStatusOf(value)).toBe(GrpcStatus.UNKNOWN);
    }
  });
});

describe('isMeshError', () => {
  it('rejects look-alikes and non-objects', () => {
    const lookAlikes: unknown[] = [
      { code: 'MESH_NO_HEALTHY_UPSTREAM', retryable: true, message: 'x', name: 'MeshError' },
      Object.assign(new Error('x'), { code: 'MESH_CLOSED', retryable: false }),
      { [Symbol('proxyless.MeshError')]: true },
      { [Symbol.for('proxyless.MeshError')]: 'true' },
      'MESH_CLOSED',
      42,
      null,
      undefined,
    ];
    for (const value of lookAlikes) expect(isMeshError(value)).toBe(false);
  });

  describe('across two copies of the package', () => {
    let dir: string;
    let copy: typeof import('../../src/errors.js');

    beforeAll(async () => {
      // A second copy of the module, loaded from another path, is a separate
      // module instance with its own MeshError class, exactly as when two
      // versions of the package sit in node_modules.
      dir = await mkdtemp(join(tmpdir(), 'proxyless-errors-'));
      const file = join(dir, 'errors.ts');
      await copyFile(ERRORS_TS, file);
      copy = (await import(pathToFileURL(file).href)) as typeof import('../../src/errors.js');
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('really is a separate module instance', () => {
      expect(copy.MeshError).not.toBe(MeshError);
      expect(copy.isMeshError).not.toBe(isMeshError);
    });

    it('accepts an error made by the other copy, where instanceof does not', () => {
      const fromCopy = new copy.MeshError('MESH_NO_HEALTHY_UPSTREAM', 'no endpoints');
      expect(fromCopy instanceof MeshError).toBe(false);
      expect(isMeshError(fromCopy)).toBe(true);
      expect(httpStatusOf(fromCopy)).toBe(503);
      expect(grpcStatusOf(fromCopy)).toBe(GrpcStatus.UNAVAILABLE);

      const fromHere = new MeshError('MESH_ABORTED', 'aborted');
      expect(fromHere instanceof copy.MeshError).toBe(false);
      expect(copy.isMeshError(fromHere)).toBe(true);
    });

    it('still rejects look-alikes in the other copy', () => {
      expect(copy.isMeshError({ code: 'MESH_CLOSED' })).toBe(false);
    });
  });
});

interface DocRow {
  code: string;
  httpStatus: number;
  grpcName: string;
  grpcNumber: number;
  responseFlag: string;
  retryable: boolean;
  meaning: string;
  remedy: string;
}

/** The rows of the table under "## Codes" in docs/errors.md. */
function parseCodeTable(markdown: string): DocRow[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Codes'));
  if (section === undefined) throw new Error('docs/errors.md has no "## Codes" section');
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const header = lines[0]?.split('|').map((c) => c.trim());
  expect(header).toEqual([
    '',
    'Code',
    'HTTP status',
    'gRPC status',
    'Response flag',
    'Retryable',
    'Meaning',
    'What to do',
    '',
  ]);
  return lines.slice(2).map((line) => {
    const cells = line.split('|').map((c) => c.trim());
    expect(cells, line).toHaveLength(9);
    const [, code, http, grpc, flag, retryable, meaning, remedy] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const grpcMatch = /^`([A-Z_]+)` \((\d+)\)$/.exec(grpc);
    if (grpcMatch === null) throw new Error(`bad gRPC cell in: ${line}`);
    expect(retryable, line).toMatch(/^(yes|no)$/);
    return {
      code: code.replace(/^`|`$/g, ''),
      httpStatus: Number(http),
      grpcName: grpcMatch[1]!,
      grpcNumber: Number(grpcMatch[2]),
      responseFlag: flag.replace(/^`|`$/g, ''),
      retryable: retryable === 'yes',
      meaning,
      remedy,
    };
  });
}

describe('docs/errors.md', () => {
  let rows: DocRow[];

  beforeAll(async () => {
    rows = parseCodeTable(await readFile(ERRORS_MD, 'utf8'));
  });

  it('lists exactly the codes in ERROR_CODES, each once, in the same order', () => {
    expect(rows.map((r) => r.code)).toEqual(CODES);
  });

  it('gives each code the same HTTP status, gRPC status, response flag and retryability as the table', () => {
    for (const row of rows) {
      const spec = ERROR_CODES[row.code as MeshErrorCode];
      expect({
        code: row.code,
        httpStatus: row.httpStatus,
        grpcStatus: row.grpcNumber,
        responseFlag: row.responseFlag,
        retryable: row.retryable,
      }).toEqual({
        code: row.code,
        httpStatus: spec.httpStatus,
        grpcStatus: spec.grpcStatus,
        responseFlag: spec.responseFlag,
        retryable: spec.retryable,
      });
      expect(GrpcStatus[row.grpcName as keyof typeof GrpcStatus], `${row.code}: ${row.grpcName}`).toBe(row.grpcNumber);
    }
  });

  it('explains each code and what to do about it', () => {
    for (const row of rows) {
      expect(row.meaning.length, row.code).toBeGreaterThan(20);
      expect(row.remedy.length, row.code).toBeGreaterThan(10);
    }
  });
});
