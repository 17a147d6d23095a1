/**
 * The mesh's own log lines (config rejected, discovery failing). Structured,
 * to stderr, warnings and errors only unless MESH_LOG_LEVEL says otherwise;
 * users can pass any object with these three methods (pino, winston, console).
 */
import { envVar } from '../config/env.js';

export interface MeshLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;
type Level = keyof typeof LEVELS;

/**
 * `level` is a name from LEVELS in any case, surrounding spaces ignored;
 * anything else (unset, empty, unknown) means `warn`.
 */
export function stderrLogger(level: string | undefined = envVar(process.env, 'MESH_LOG_LEVEL')): MeshLogger {
  const name = level?.trim().toLowerCase();
  const min = LEVELS[name !== undefined && Object.hasOwn(LEVELS, name) ? (name as Level) : 'warn'];
  const write = (lvl: Level, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, logger: 'proxyless', message, ...fields })}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
