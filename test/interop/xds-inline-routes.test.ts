/**
 * `--inline-routes`: route configurations inside the listeners (no RDS),
 * accepted by both gRPC xDS clients we did not write.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type EchoClient, eventually, splitConfig, XdsWorkspace } from './xds-fixture.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./xds_echo_client.py', import.meta.url));

describe('inline route configurations', () => {
  const ws = new XdsWorkspace();
  let cp: ControlPlane;
  let port: number;

  beforeAll(async () => {
    const v1 = await ws.startEcho('v1');
    const v2 = await ws.startEcho('v2');
    ws.writeConfig(splitConfig(v1, v2, [0, 100]));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), inlineRoutes: true });
    port = await cp.start();
  });

  afterAll(async () => {
    await cp?.close();
    ws.close();
  });

  it('serves no RDS resources', () => {
    expect(cp.snapshot.resources.get(TYPE_URL.routeConfiguration)!.size).toBe(0);
  });

  it('routes @grpc/grpc-js-xds calls by the inline routes', async () => {
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = ws.bootstrap(port, 'grpc-js-inline');
    createRequire(import.meta.url)('@grpc/grpc-js-xds').register();
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    const client = new Echo('xds:///reviews', grpc.credentials.createInsecure()) as unknown as EchoClient;
    try {
      const call = () =>
        new Promise<string>((resolve, reject) =>
          client.Call({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (err, r) => (err ? reject(err) : resolve(r!.server))),
        );
      await eventually(() => call(), 'the first call');
      for (let i = 0; i < 10; i++) expect(await call()).toBe('v2');
    } finally {
      client.close();
    }
  });

  it.skipIf(!existsSync(PYTHON))('routes python3-grpcio calls by the inline routes', async () => {
    const run = promisify(execFile);
    const child = run(PYTHON, [SCRIPT, 'xds:///reviews'], {
      env: { PATH: process.env.PATH ?? '/usr/bin', GRPC_XDS_BOOTSTRAP: ws.writeBootstrap(port, 'python-inline') },
      timeout: 90_000,
    });
    child.child.stdin!.end('calls 10\nquit\n');
    const { stdout } = await child;
    expect(JSON.parse(stdout.trim())).toEqual({ counts: { v2: 10 }, errors: [] });
  });
});
