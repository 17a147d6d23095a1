#!/usr/bin/env node
/**
 * The `proxyless` command line.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import { readConfigFile } from './config/file-source.js';
import { checkRouteTargets } from './config/route-targets.js';
import { validateConfig } from './config/validate.js';
import { isMeshError } from './errors.js';
import { MeshSecurity } from './security/mesh-security.js';
import { stderrLogger } from './telemetry/logger.js';

const USAGE = `usage: proxyless <command>

commands:
  demo                 three local replicas, a mesh client, and a replica crash
  validate <file>      check a config file; prints every problem with its path
  certs <subcommand>   create-ca, issue, inspect: workload certificates (proxyless certs help)
  control-plane        serve xDS and sign workload CSRs from a config file; \`control-plane status\` shows clients
  help                 this text
`;

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'demo': {
      const { runDemo } = await import('./demo/demo.js');
      await runDemo(fileURLToPath(import.meta.url));
      return 0;
    }
    case 'demo-replica': {
      const { runReplica } = await import('./demo/replica.js');
      runReplica(rest[0] ?? 'replica');
      return -1;
    }
    case 'validate': {
      const file = rest[0];
      if (file === undefined) {
        process.stderr.write('validate: name a config file\n');
        return 2;
      }
      try {
        const config = validateConfig(readConfigFile(file), `file ${file}`);
        // The checks createMesh() makes beyond the schema: route targets, security settings.
        const issues = [...checkRouteTargets(config), ...new MeshSecurity({}, stderrLogger('silent')).check(config)];
        if (issues.length > 0) throw new ConfigError(`file ${file}`, issues);
        process.stdout.write(`${file}: valid (${Object.keys(config.services).length} services)\n`);
        return 0;
      } catch (err) {
        process.stderr.write(`${isMeshError(err) ? err.message : String(err)}\n`);
        return 1;
      }
    }
    case 'control-plane': {
      const { runControlPlaneCommand } = await import('./control/cli.js');
      const at = argv.indexOf('control-plane');
      return runControlPlaneCommand(argv.slice(at + 1), { stdout: process.stdout, stderr: process.stderr });
    }
    case 'certs': {
      const { runCertsCommand } = await import('./security/certs-cli.js');
      const at = argv.indexOf('certs');
      return runCertsCommand(argv.slice(at + 1), { stdout: process.stdout, stderr: process.stderr });
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
