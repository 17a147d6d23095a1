import { expect, test } from 'vitest';
import { hostAllowed, hostName, isLoopbackHost } from '../../../src/admin/host-guard.js';

test('hostName strips the port, keeps IPv6 brackets, lower-cases', () => {
  expect(hostName('LocalHost:9901')).toBe('localhost');
  expect(hostName('[::1]:9901')).toBe('[::1]');
  expect(hostName('127.0.0.1')).toBe('127.0.0.1');
});

test('loopback names', () => {
  for (const h of ['localhost', '127.0.0.1', '127.9.9.9', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
  for (const h of ['0.0.0.0', '10.0.0.1', '127.example.com', 'localhost.evil.com', '::']) expect(isLoopbackHost(h)).toBe(false);
});

test('a loopback bind serves loopback names only; any other bind serves every name', () => {
  expect(hostAllowed('127.0.0.1', 'localhost:9901')).toBe(true);
  expect(hostAllowed('127.0.0.1', undefined)).toBe(true);
  expect(hostAllowed('127.0.0.1', 'rebind.attacker.example:9901')).toBe(false);
  expect(hostAllowed('::1', '[::1]:9901')).toBe(true);
  expect(hostAllowed('0.0.0.0', 'pod-ip.example:9901')).toBe(true);
});
