/**
 * Retries, deadlines and a circuit breaker against real (misbehaving) HTTP
 * servers in this process:
 *
 *   a. a flaky backend that drops every other request: GETs succeed through
 *      the default retries; a POST is not retried, and the error says why;
 *   b. withDeadline(200, ...) caps a call to a backend that never answers,
 *      although the service's own timeout is 10 s;
 *   c. a circuit breaker opens on a backend that only fails, and a fallback
 *      answers while it is open.
 *
 *   node --import tsx examples/resilience/main.ts
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS, createMesh, isMeshError, withDeadline } from 'proxyless';
import { closeAll, startBroken, startFlaky, startSlow } from './backends.js';

const flaky = await startFlaky();
const slow = await startSlow();
const broken = await startBroken();

const mesh = createMesh({
  env: false,
  config: {
    services: {
      // No retries block: the defaults (2 retries of connect failures and
      // resets, for idempotent requests) are what this shows.
      orders: { endpoints: [flaky.address] },
      search: { endpoints: [slow.address], timeout: '10s' },
      inventory: {
        endpoints: [broken.address],
        circuitBreaker: { minimumRequests: 5, errorThresholdPercentage: 50, openFor: '30s' },
      },
    },
  },
  fallbacks: {
    // Answer for inventory only while its circuit is open; other errors reach the caller.
    inventory: (err) =>
      err.code === 'MESH_CIRCUIT_OPEN'
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"items":[],"stale":true}', flag: 'UO' }
        : undefined,
  },
});
await mesh.ready();

// Watch what the pipeline decides, without touching it.
let retries = 0;
const onRetry = () => {
  retries++;
};
const onCircuit = (msg: unknown) => {
  const { service, from, to } = msg as { service: string; from: string; to: string };
  console.log(`c. circuit ${service}: ${from} -> ${to}`);
};
subscribe(CHANNELS.retry, onRetry);
subscribe(CHANNELS.circuit, onCircuit);

// a. Retries.
let ok = 0;
let failed = 0;
for (let i = 0; i < 20; i++) {
  try {
    const res = await mesh.request(`http://orders/orders/${i}`);
    await res.body.text();
    ok++;
  } catch {
    failed++;
  }
}
console.log(`a. GET x20: ${ok} ok, ${failed} failed, ${retries} retries, ${flaky.requests} requests reached the backend`);

try {
  await mesh.request('http://orders/orders', { method: 'POST', body: '{"item":42}' });
  console.log('a. POST: succeeded');
} catch (err) {
  if (!isMeshError(err)) throw err;
  console.log(`a. POST: ${err.code}, notRetried=${String(err.details?.notRetried)}`);
  console.log(`a. POST message: ${err.message}`);
}

// b. A deadline for everything called inside the function.
const started = performance.now();
try {
  await withDeadline(200, () => mesh.request('http://search/?q=shoes'));
  console.log('b. search: answered');
} catch (err) {
  if (!isMeshError(err)) throw err;
  const ms = Math.round(performance.now() - started);
  // source is 'inherited' for a deadline from the context (withDeadline, or an
  // inbound request's budget), 'timeout' when the call's own timeout ran out.
  console.log(`b. search: ${err.code} after ${ms} ms (details.source=${String(err.details?.source)})`);
  console.log(`b. the backend was told x-mesh-timeout-ms: ${String(slow.lastBudget)}`);
}

// c. The breaker counts the 500s; once open, the fallback answers without a network call.
for (let i = 1; i <= 8; i++) {
  const res = await mesh.request('http://inventory/items');
  const body = await res.body.text();
  console.log(`c. inventory #${i}: ${res.statusCode} ${body}`);
}
console.log(`c. requests that reached the inventory backend: ${broken.requests}`);

unsubscribe(CHANNELS.retry, onRetry);
unsubscribe(CHANNELS.circuit, onCircuit);
await mesh.close();
closeAll();
