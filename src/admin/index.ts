/** The per-process admin endpoint (re-exports only). */

export { type AdminServer, type AdminServerOptions, startAdminServer } from './admin-server.js';
export type { AdminSource, ClusterView, ConfigChange, EndpointView } from './admin-source.js';
export type { DashboardData, ServiceCounts } from './dashboard-data.js';
