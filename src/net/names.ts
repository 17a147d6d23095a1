/** Name rules shared by config validation and discovery. */

/** A DNS name (RFC 1123, underscores allowed for SRV labels), optionally fully qualified. */
export const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([-A-Za-z0-9_]*[A-Za-z0-9])?(\.[A-Za-z0-9_]([-A-Za-z0-9_]*[A-Za-z0-9])?)*\.?$/;
