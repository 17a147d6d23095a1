import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { CertificateRotator } from '../../../../src/security/certs/rotation.js';
import type { WorkloadCertificate } from '../../../../src/security/certs/workload-certificate.js';
import { memoryLogger } from './helpers.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
});
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets a rejected issuance run its catch handlers; process.nextTick is not faked. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => process.nextTick(resolve));
}

function nextUpdate(rotator: CertificateRotator): Promise<WorkloadCertificate> {
  return new Promise((resolve) => {
    const off = rotator.subscribe((c) => {
      off();
      resolve(c);
    });
  });
}

const halfLife = (c: WorkloadCertificate) => c.notBefore.getTime() + (c.notAfter.getTime() - c.notBefore.getTime()) / 2;

describe('CertificateRotator', () => {
  it('renews at half of the lifetime on one unref\'d timer and delivers the new certificate', async () => {
    let issued = 0;
    const rotator = new CertificateRotator({
      name: ID,
      logger: memoryLogger(),
      issue: () => {
        issued++;
        return ca.issue({ spiffeId: ID, ttlMs: HOUR });
      },
    });
    const first = await rotator.ready();
    expect(issued).toBe(1);
    expect(rotator.current()).toBe(first);
    expect(rotator.nextRenewalAt()).toBe(halfLife(first));
    expect(rotator.timerHasRef()).toBe(false);
    expect(vi.getTimerCount()).toBe(1);

    const update = nextUpdate(rotator);
    await vi.advanceTimersByTimeAsync(halfLife(first) - Date.now() - 1);
    expect(issued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const second = await update;
    expect(issued).toBe(2);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(rotator.current()).toBe(second);
    expect(rotator.nextRenewalAt()).toBe(halfLife(second));
    expect(vi.getTimerCount()).toBe(1);
    await rotator.close();
  });

  it('honours a custom renewal fraction', async () => {
    const rotator = new CertificateRotator({ name: ID, renewAt: 0.8, logger: memoryLogger(), issue: () => ca.issue({ spiffeId: ID, ttlMs: HOUR }) });
    const c = await rotator.ready();
    expect(rotator.nextRenewalAt()).toBe(c.notBefore.getTime() + 0.8 * (c.notAfter.getTime() - c.notBefore.getTime()));
    await rotator.close();
    expect(() => new CertificateRotator({ name: ID, renewAt: 1, issue: () => ca.issue({ spiffeId: ID }) })).toThrow(RangeError);
  });

  it('keeps the current certificate through failed renewals, retrying with backoff', async () => {
    let failing = false;
    let attempts = 0;
    const logger = memoryLogger();
    const rotator = new CertificateRotator({
      name: ID,
      logger,
      retryDelayMs: 1000,
      maxRetryDelayMs: 4000,
      issue: async () => {
        attempts++;
        if (failing) throw new Error('control plane unavailable');
        return ca.issue({ spiffeId: ID, ttlMs: HOUR });
      },
    });
    const first = await rotator.ready();
    failing = true;

    await vi.advanceTimersByTimeAsync(halfLife(first) - Date.now());
    await settle();
    expect(attempts).toBe(2);
    expect(rotator.current()).toBe(first);
    expect(rotator.nextRenewalAt()).toBe(Date.now() + 1000);

    for (const delay of [1000, 2000, 4000, 4000]) {
      expect(rotator.nextRenewalAt()).toBe(Date.now() + delay);
      await vi.advanceTimersByTimeAsync(delay);
      await settle();
    }
    expect(attempts).toBe(6);
    expect(rotator.current()).toBe(first);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(5);
    expect(warnings[0]!.fields).toMatchObject({ identity: ID, attempt: 1, retryInMs: 1000, error: 'control plane unavailable' });

    failing = false;
    const update = nextUpdate(rotator);
    await vi.advanceTimersByTimeAsync(4000);
    const renewed = await update;
    expect(renewed.serialNumber).not.toBe(first.serialNumber);
    expect(rotator.nextRenewalAt()).toBe(halfLife(renewed));
    await rotator.close();
  });

  it('delivers a trust bundle change with the renewed certificate', async () => {
    const newRoot = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    let issuer = ca;
    const rotator = new CertificateRotator({ name: ID, logger: memoryLogger(), issue: () => issuer.issue({ spiffeId: ID, ttlMs: HOUR }) });
    const first = await rotator.ready();
    expect(first.trustBundlePems).toEqual([ca.certificatePem]);
    issuer = newRoot;
    const update = nextUpdate(rotator);
    const forced = await rotator.rotateNow();
    expect(await update).toBe(forced);
    expect(forced.trustBundlePems).toEqual([newRoot.certificatePem]);
    await rotator.close();
  });

  it('waits out lifetimes longer than one timer can hold', async () => {
    let issued = 0;
    const rotator = new CertificateRotator({
      name: ID,
      logger: memoryLogger(),
      issue: () => {
        issued++;
        return ca.issue({ spiffeId: ID, ttlMs: 100 * DAY });
      },
    });
    const first = await rotator.ready();
    await vi.advanceTimersByTimeAsync(30 * DAY);
    expect(issued).toBe(1);
    const update = nextUpdate(rotator);
    await vi.advanceTimersByTimeAsync(halfLife(first) - Date.now());
    await update;
    expect(issued).toBe(2);
    await rotator.close();
  });

  it('close() stops the timer, aborts the issuer and silences listeners', async () => {
    let issued = 0;
    let lastSignal: AbortSignal | undefined;
    const rotator = new CertificateRotator({
      name: ID,
      logger: memoryLogger(),
      issue: (signal) => {
        issued++;
        lastSignal = signal;
        return ca.issue({ spiffeId: ID, ttlMs: HOUR });
      },
    });
    await rotator.ready();
    let calls = 0;
    rotator.subscribe(() => calls++);
    await rotator.close();
    expect(lastSignal?.aborted).toBe(true);
    expect(rotator.nextRenewalAt()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(DAY);
    await expect(rotator.rotateNow()).rejects.toMatchObject({ code: 'MESH_CLOSED' });
    expect(issued).toBe(1);
    expect(calls).toBe(0);
  });

  it('rejects ready() when closed before the first certificate', async () => {
    const rotator = new CertificateRotator({ name: ID, logger: memoryLogger(), issue: () => new Promise(() => {}) });
    const ready = expect(rotator.ready()).rejects.toMatchObject({ code: 'MESH_CLOSED' });
    await rotator.close();
    await ready;
  });
});
