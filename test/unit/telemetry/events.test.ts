/**
 * docs/metrics.md's "Diagnostics channels" table is the one list of the
 * channels the mesh publishes on: it must name every one in CHANNELS, with
 * its channel name, and no other; and it must describe every field of the
 * RequestRecord a requestEnd message is.
 */
import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { CHANNELS } from '../../../src/telemetry/events.js';
import { scratchRecord } from '../../../src/telemetry/request-record.js';

const METRICS_MD = new URL('../../../docs/metrics.md', import.meta.url);

test('docs/metrics.md lists every diagnostics channel, with its name, once', async () => {
  const markdown = await readFile(METRICS_MD, 'utf8');
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Diagnostics channels'));
  if (section === undefined) throw new Error('docs/metrics.md has no "## Diagnostics channels" section');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|').map((c) => c.trim()))
    .filter((cells) => cells[2]?.startsWith('`proxyless:'));
  const listed = rows.map((cells) => [cells[1]!.replace(/`/g, ''), cells[2]!.replace(/`/g, '')]);
  expect(listed).toEqual(Object.entries(CHANNELS));
});

test('docs/metrics.md describes every field of the RequestRecord a requestEnd message carries', async () => {
  const markdown = await readFile(METRICS_MD, 'utf8');
  const section = markdown.split(/^### /m).find((s) => s.startsWith('The `RequestRecord`'));
  if (section === undefined) throw new Error('docs/metrics.md has no "### The `RequestRecord`" section');
  const fields = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
  expect(fields.sort()).toEqual(Object.keys(scratchRecord('source', 'unknown')).sort());
});
