/** What a test asserts about input the mesh must refuse: the message, or the config issues. */
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js';
import { validateConfig } from '../../src/config/validate.js';

/** The message `fn` throws; fails the test when it does not throw. */
export function rejectionMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

/** The issues validateConfig finds in `raw`: none for a valid config. */
export function configIssuesOf(raw: unknown): readonly ConfigIssue[] {
  try {
    validateConfig(raw, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}
