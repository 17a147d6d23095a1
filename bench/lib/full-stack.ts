/** The full-stack row's service settings, shared by the load bench and the profile. */

/** The resilience and routing settings of the full-stack row: every layer on, none of them firing. */
export function fullStack(path: string): Record<string, unknown> {
  const routes: unknown[] = [];
  for (let i = 0; i < 10; i++) {
    routes.push({ name: `api-${i}`, match: [{ uri: { prefix: `/api/v${i}/` } }], route: [{ destination: {} }] });
    routes.push({ name: `beta-${i}`, match: [{ headers: { 'x-beta': { exact: `b${i}` } } }], route: [{ destination: {} }] });
  }
  routes.push({
    name: 'main',
    match: [{ uri: { prefix: path.slice(0, path.lastIndexOf('/') + 1) || '/' }, method: { exact: 'GET' } }],
    route: [{ destination: {} }],
    timeout: '5s',
    retries: { attempts: 2, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,reset' },
  });
  return {
    routes,
    retryBudget: { ratio: 0.2, minRetriesPerSecond: 10 },
    circuitBreaker: { errorThresholdPercentage: 50, minimumRequests: 100, window: '10s', openFor: '5s' },
    connectionPool: { maxRequests: 10_000, maxPendingRequests: 10_000, maxRetries: 1_000 },
    outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' },
  };
}
