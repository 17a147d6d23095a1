/**
 * The public API is nameable: every type a public signature of the three
 * entry points reaches is exported, unless it is listed below as
 * deliberately internal; and docs/api.md lists every export.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiReport, checkPublicApi } from '../helpers/public-api.js';

const ENTRIES = ['src/index.ts', 'src/otel.ts', 'src/nest.ts'];

/** Types a public signature names that stay unexported on purpose; the checker does not walk into them. */
const INTERNAL: Record<string, string> = {
  MeshInboundParts: 'what the mesh hands the MeshInbound it makes (mesh.inbound)',
  MeshGrpcServerParts: 'what the mesh hands the MeshGrpcServer it makes (mesh.grpc.server())',
  InboundPipeline: "the mesh's inner parts a MeshServer built directly could take (docs/api.md)",
  InboundTelemetry: "the mesh's inner parts a MeshServer built directly could take (docs/api.md)",
  InboundGuard: "the mesh's inner parts a MeshServer built directly could take (docs/api.md)",
  Directory: 'mesh.destinations, documented as internal',
  MeshDispatcher: "mesh.dispatcher, documented as undici's Dispatcher, which it extends",
  Snapshot: "controlPlane.snapshot: the xDS resources being served, the control plane's own model",
  RequestOptions: "undici's request() options, aliased in src/mesh.ts",
  FetchInput: "undici's fetch() input, aliased in src/mesh.ts",
  FetchInit: "undici's fetch() init, aliased in src/mesh.ts",
  AnyRegistry: "prom-client's Registry, of either content type",
  Env: 'Readonly<Record<string, string | undefined>>, such as process.env',
  HandlerSource: 'any object or class, aliased in mesh-grpc-server.ts',
  CodeSpec: "a row of ERROR_CODES: (typeof ERROR_CODES)[MeshErrorCode]; errors.ts does not export it",
};

describe('the public API', () => {
  let report: ApiReport;
  beforeAll(() => {
    report = checkPublicApi(ENTRIES, new Set(Object.keys(INTERNAL)));
  }, 60_000);

  it('exports every type its signatures name', () => {
    expect(report.missing).toEqual([]);
  });

  it('lists as internal only types a signature still names', () => {
    expect(Object.keys(INTERNAL).filter((name) => !report.internalReached.has(name))).toEqual([]);
  });

  it('documents every export in docs/api.md', () => {
    const documented = new Set<string>();
    for (const line of readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8').split('\n')) {
      const first = /^\| ([^|]+) \|/.exec(line)?.[1];
      if (first !== undefined) for (const m of first.matchAll(/`([A-Za-z_$][\w$]*)`/g)) documented.add(m[1]!);
    }
    expect([...report.exported].filter((name) => !documented.has(name)).sort()).toEqual([]);
  });
});
