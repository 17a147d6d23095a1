import { expect, test } from 'vitest';
import { validateConfig } from '../../../src/config/validate.js';
import { clusterName, listenerNames } from '../../../src/control/resource-names.js';

// As the Kubernetes control plane writes them: `api` in the mesh namespace with a second port, and a
// Service of the same name in `backend`, keyed by its namespace, with a second port of its own.
const config = validateConfig(
  {
    services: {
      api: { port: 8080, endpoints: ['10.0.0.1:8080'] },
      'api-admin': { port: 9901, reportAs: 'api', endpoints: ['10.0.0.1:9901'] },
      'api-backend': { namespace: 'backend', port: 8080, reportAs: 'api', endpoints: ['10.0.1.1:8080'] },
      'api-backend-admin': { namespace: 'backend', port: 9901, reportAs: 'api', endpoints: ['10.0.1.1:9901'] },
    },
  },
  'test',
);
const names = (name: string) => listenerNames(name, config.services[name]!, config.mesh, config.services);

test("another namespace's Service of a taken name is reached by its qualified names, port-less ones on its first port only", () => {
  expect(names('api-backend').slice(0, 6)).toEqual([
    'api.backend.svc.cluster.local:8080',
    'api.backend.svc.cluster.local',
    'api.backend:8080',
    'api.backend',
    'api.backend.svc:8080',
    'api.backend.svc',
  ]);
  expect(names('api-backend-admin')).toEqual(
    expect.arrayContaining(['api.backend.svc.cluster.local:9901', 'api.backend:9901', 'api-backend-admin', 'api-backend-admin:9901']),
  );
  expect(names('api-backend-admin')).not.toContain('api.backend.svc.cluster.local');
  // The bare name is the mesh namespace's, on each of its ports.
  for (const name of ['api-backend', 'api-backend-admin']) expect(names(name).filter((n) => n.startsWith('api:') || n === 'api')).toEqual([]);
  expect(names('api')).toEqual(expect.arrayContaining(['api', 'api:8080', 'api.default.svc.cluster.local']));
  expect(names('api-admin')).toEqual(expect.arrayContaining(['api:9901', 'api.default.svc.cluster.local:9901']));
  expect(clusterName('api-backend-admin', config.services['api-backend-admin']!, config.mesh)).toBe('outbound|9901||api.backend.svc.cluster.local');
});

test('no two entries share a listener name', () => {
  const all = Object.keys(config.services).flatMap(names);
  expect(new Set(all).size).toBe(all.length);
});
