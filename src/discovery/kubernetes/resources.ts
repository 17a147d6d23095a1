/**
 * The parts of EndpointSlice (discovery.k8s.io/v1), Service (v1) and Node
 * (v1) that discovery reads. Objects come from the API server, so every field is
 * treated as possibly missing.
 */

export interface SlicePort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol?: string;
}

export interface SliceEndpoint {
  readonly addresses?: readonly string[];
  readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  readonly zone?: string;
  readonly nodeName?: string;
  readonly hints?: { readonly forZones?: readonly { readonly name?: string }[] };
}

export interface EndpointSliceObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly addressType?: string;
  readonly ports?: readonly SlicePort[] | null;
  readonly endpoints?: readonly SliceEndpoint[] | null;
}

export interface ServicePort {
  readonly name?: string;
  readonly port?: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
}

export interface ServiceObject {
  readonly spec?: {
    readonly ports?: readonly ServicePort[];
    /** `ExternalName` for a DNS alias (`externalName`), which has no endpoints. */
    readonly type?: string;
    readonly externalName?: string;
  };
}

/** A Node (v1): only its labels, which carry the zone. */
export interface NodeObject {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, unknown>> | null };
}

export interface ListObject<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: readonly T[];
}

/** The slice's name (its key in the merged set), or undefined for a malformed object. */
export function sliceName(slice: EndpointSliceObject): string | undefined {
  const name = slice.metadata?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export function resourceVersionOf(obj: unknown): string | undefined {
  const rv = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}
