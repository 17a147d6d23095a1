/**
 * Field schemas shared by every part of the config model. They live apart
 * from schema.ts so the route, resilience and outlier schemas can use them
 * without an import cycle through the model that includes those schemas.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DNS_NAME } from '../net/names.js';
import { parseDuration } from './duration.js';

const DURATION_HINT = 'write milliseconds as a number or a string like "250ms", "5s", "1m30s"';

/** A value as the user wrote it, for messages (`NaN` and `Infinity` stay readable). */
export function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

export const duration = z
  .union([z.number(), z.string()], {
    error: (iss) => (iss.input === undefined ? `is required; ${DURATION_HINT}` : `${shown(iss.input)} is not a duration; ${DURATION_HINT}`),
  })
  .transform((value, ctx) => {
    if (typeof value === 'number' && Number.isFinite(value) && value < 0) {
      ctx.addIssue({ code: 'custom', message: `must not be negative, got ${value}` });
      return z.NEVER;
    }
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `${shown(value)} is not a duration; ${DURATION_HINT}` });
      return z.NEVER;
    }
    return ms;
  });


/**
 * `host:port`, `host`, `[v6]:port` or `[v6]`. On failure returns the reason,
 * worded to follow the quoted input (`"a:b:c" is not host:port ...`).
 */
export function parseHostPort(text: string): { address: string; port: number | undefined } | string {
  if (text.trim() === '') return 'is empty; write "host:port" or "[ipv6]:port"';
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return 'has an unclosed "["';
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'has text after "]" that is not ":port"';
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return `has "${host}" in brackets, which is not an IPv6 address (only IPv6 goes in [])`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      if (isIP(text) === 6) return { address: text, port: undefined };
      return 'is not host:port (write IPv6 addresses as [addr]:port)';
    }
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (isIP(host) === 0 && !DNS_NAME.test(host)) return `has host "${host}", which is not an IP address or DNS name`;
  }
  if (portText === undefined) return { address: host, port: undefined };
  if (portText === '') return 'has nothing after ":"; write "host:port", or just "host" to use the service port';
  const p = Number(portText);
  if (!/^\d+$/.test(portText) || p < 1 || p > 65535) return `has port "${portText}"; a port is a number from 1 to 65535`;
  return { address: host, port: p };
}

