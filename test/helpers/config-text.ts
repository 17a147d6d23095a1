/**
 * A mesh file's text through the real parser and validator, for tests of
 * what its documents become: the config (whose routes must all name real
 * targets) or the message it is refused with.
 */
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/file-source.js';
import { checkRouteTargets } from '../../src/config/route-targets.js';
import { validateConfig } from '../../src/config/validate.js';

export function loadConfigText(text: string) {
  const config = validateConfig(parseConfigText(text, 'file mesh.yaml'), 'file mesh.yaml');
  expect(checkRouteTargets(config)).toEqual([]);
  return config;
}

export function configProblems(text: string): string {
  return configRejection(text).message;
}

/** The refusal's issues, each with its path, as a blame or a status reads them. */
export function configIssues(text: string): ConfigError['issues'] {
  return configRejection(text).issues;
}

function configRejection(text: string): ConfigError {
  try {
    validateConfig(parseConfigText(text, 'file mesh.yaml'), 'file mesh.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}
