/**
 * Kubernetes names and labels as the config model checks them: namespaces
 * and service names are RFC 1123 labels, and label maps follow the API
 * server's rules. Shared by the service, subset, workload and route-match
 * schemas, so a label written in any of them is held to the same rules.
 */
import { z } from 'zod';

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const LABEL_KEY = /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const LABEL_RULE = 'DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';

/** A namespace or service name: an RFC 1123 label, as Kubernetes requires. */
export function dnsLabel(what: string) {
  return z.string().refine((s) => s.length <= 63 && DNS_LABEL.test(s), {
    error: (iss) => `${JSON.stringify(iss.input)} is not a valid ${what} (a ${LABEL_RULE})`,
  });
}

/** A label map, as on a pod: `{ app: reviews, version: v2 }`. */
export const labelsSchema = z.record(
  z.string().regex(LABEL_KEY, {
    error: (iss) =>
      `label key ${JSON.stringify(iss.input)} is not a valid label name (an optional "prefix/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
  }),
  z.string().max(63, {
    error: (iss) => `label values must be at most 63 characters, got ${String((iss.input as string).length)}`,
  }),
);
