/**
 * `/metrics`: the registry's exposition in the format the scraper asks for,
 * gzipped when it accepts gzip (Prometheus does; a mesh's Istio series run
 * to tens of kilobytes, and compress about tenfold).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Registry } from 'prom-client';
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';
import { prefersOpenMetrics, toOpenMetrics } from './openmetrics.js';

const gzipAsync = promisify(gzip);
/** Below this a gzip header and deflate tables cost more than they save. */
const GZIP_MIN_BYTES = 1024;

export interface MetricsReply {
  contentType: string;
  body: Buffer;
  contentEncoding: 'gzip' | undefined;
}

export async function metricsReply(registry: AnyRegistry, accept: string | undefined, acceptEncoding: string | undefined): Promise<MetricsReply> {
  const text = await registry.metrics();
  // A registry already in OpenMetrics mode is served as it is, whatever was asked: every scraper that
  // speaks OpenMetrics accepts it, and turning it back would need a second converter for no real client.
  const open = registry.contentType !== Registry.OPENMETRICS_CONTENT_TYPE && prefersOpenMetrics(accept);
  const contentType = open ? Registry.OPENMETRICS_CONTENT_TYPE : registry.contentType;
  const raw = Buffer.from(open ? toOpenMetrics(text) : text, 'utf8');
  if (raw.length < GZIP_MIN_BYTES || !acceptsGzip(acceptEncoding)) return { contentType, body: raw, contentEncoding: undefined };
  return { contentType, body: await gzipAsync(raw), contentEncoding: 'gzip' };
}

function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
