/**
 * An Echo replica in a process of its own, so a test can SIGKILL it the
 * way a node dies: `fork(this file, [name], { execArgv: ['--import', 'tsx'] })`.
 * Sends `{ port }` over IPC once it serves.
 */
import { startEchoReplica } from './echo-replicas.js';

const replica = await startEchoReplica(process.argv[2] ?? 'replica');
process.send?.({ port: replica.port });
