/**
 * `continuum` command line: `start` runs the platform; `device …` and `telemetry …` talk to a
 * running platform over its management API. bin/continuum.mjs imports this module.
 */
import { main } from './cli/main.js';

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
if (code !== undefined) process.exitCode = code;
