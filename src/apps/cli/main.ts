/** The `continuum` command dispatcher, separate from cli.ts so tests can call it in-process. */
import { ALARM_HELP, COMMAND_HELP, runAlarm, runCommand } from './alarm.js';
import { AUDIT_HELP, runAudit } from './audit.js';
import { BACKUP_HELP, RESTORE_HELP, runBackup, runRestore } from './backup.js';
import { INTEGRATION_HELP, runIntegration } from './integration.js';
import { GRANT_HELP, runGrant } from './grant.js';
import { CUSTOMER_HELP, GROUP_HELP, runCustomer, runGroup } from './customer.js';
import { QUOTA_HELP, ROLE_HELP, TENANT_HELP, runQuota, runRole, runTenant } from './tenant.js';
import { CliError, type Io } from './common.js';
import { CONFIG_HELP, runConfig } from './config.js';
import { CLUSTER_HELP, runCluster } from './cluster.js';
import { DEVICE_HELP, runDevice } from './device.js';
import { OTA_HELP, runOta } from './ota.js';
import { PROFILE_HELP, runProfile } from './profile.js';
import { RULE_HELP, runRule } from './rules.js';
import { SCENARIO_HELP, runScenario } from './scenario.js';
import { USER_HELP, runUser } from './user.js';
import { TELEMETRY_HELP, runTelemetry } from './telemetry.js';

export const HELP = `Usage: continuum <command> [options]

Commands:
  start [flags]         run the platform (continuum start --help)
  config check FILE|print  check a config file; print the effective config with each value's source
  device create NAME    create a device and print its access token
  device get|update|rename|delete DEVICE  one device by id or name
  device list           list devices with their connectivity
  profile list|get|create|update|delete  device profiles (codec, telemetry keys, units)
  device import FILE    create devices from a CSV file, with a per-row error report
  device firmware DEVICE --package ID  assign a firmware package (without --package: its status)
  ota upload|list|delete|key|deploy|deployments|deployment
                        firmware and software packages, rollouts (continuum ota --help)
  telemetry get DEVICE  read stored telemetry of a device (id or name)
  telemetry export DEVICE  every raw point of a range as CSV on stdout (streamed)
  rule list|create|backtest  manage rules; replay stored history through one (continuum rule --help)
  alarm list|ack|clear  list alarms, acknowledge or clear one
  command send DEVICE METHOD  send a command (RPC), now or through the outbox (--persistent)
  user list|create|update|delete  manage users; user reset-password EMAIL recovers a locked-out admin
  integration list|create|status|delete  MQTT bridges and streams out (continuum integration --help)
  grant list|add|delete  device-to-device MQTT grants (admins; continuum grant --help)
  customer create|list|get|delete|assign  customers and their devices (continuum customer --help)
  group create|list|add|members|command   device groups and bulk commands (continuum group --help)
  tenant create|list|get|suspend|resume|delete|user-add  tenants (sysadmin; continuum tenant --help)
  quota get [TENANT] | set TENANT  quota limits and usage (continuum quota --help)
  role list|create|delete  custom roles (admins; continuum role --help)
  audit                 the audit log: sign-ins, credential reads, changes (admins; continuum audit --help)
  scenario list|install NAME  the scenario packs (smart-farm, factory, fleet, …); install one
  cluster status        the cluster's nodes and partition owners (admins; continuum cluster --help)
  migrate --from-sqlite DIR --to-postgres URL  copy a single node's data into PostgreSQL (continuum migrate --help)
  backup FILE           the data dir (database, credential key, OTA packages) in one file, while running
  restore FILE          a backup into a data dir, with the server stopped (continuum restore --help)
  edge --config FILE    run the edge gateway (Modbus → platform, local rules; continuum edge --help)
  simulate --scenario NAME  play a scenario's devices over MQTT/CoAP/HTTP (continuum simulate --help)

Run "continuum <command> --help" for the options of a command. Client commands take
--url, --api-key or --email/--password, and --json for machine-readable output.`;

/**
 * Runs one command. Resolves with the exit code, or undefined when the command keeps running
 * (the server) and owns the process from then on.
 */
export async function main(argv: string[], io: Io): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start': {
        const { runServerFromCli } = await import('../server.js');
        await runServerFromCli(rest);
        return undefined;
      }
      case 'edge': {
        const { runEdgeFromCli } = await import('../../edge/app.js');
        return await runEdgeFromCli(rest, io);
      }
      case 'simulate': {
        const { runSimulate } = await import('./simulate.js');
        return await runSimulate(rest, io);
      }
      case 'config':
        return runConfig(rest, io);
      case 'cluster':
        return await runCluster(rest, io);
      case 'migrate': {
        const { runMigrate } = await import('./migrate.js');
        return await runMigrate(rest, io);
      }
      case 'device':
      case 'devices':
        return await runDevice(rest, io);
      case 'ota':
        return await runOta(rest, io);
      case 'profile':
      case 'profiles':
        return await runProfile(rest, io);
      case 'telemetry':
        return await runTelemetry(rest, io);
      case 'rule':
      case 'rules':
        return await runRule(rest, io);
      case 'alarm':
      case 'alarms':
        return await runAlarm(rest, io);
      case 'command':
      case 'commands':
        return await runCommand(rest, io);
      case 'user':
      case 'users':
        return await runUser(rest, io);
      case 'scenario':
      case 'scenarios':
        return await runScenario(rest, io);
      case 'audit':
        return await runAudit(rest, io);
      case 'backup':
        return await runBackup(rest, io);
      case 'restore':
        return runRestore(rest, io);
      case 'customer':
      case 'customers':
        return await runCustomer(rest, io);
      case 'group':
      case 'groups':
        return await runGroup(rest, io);
      case 'tenant':
      case 'tenants':
        return await runTenant(rest, io);
      case 'quota':
      case 'quotas':
        return await runQuota(rest, io);
      case 'role':
      case 'roles':
        return await runRole(rest, io);
      case 'integration':
      case 'integrations':
        return await runIntegration(rest, io);
      case 'grant':
      case 'grants':
        return await runGrant(rest, io);
      case 'help':
        if (rest[0] === 'device') return io.stdout.write(DEVICE_HELP + '\n'), 0;
        if (rest[0] === 'config') return io.stdout.write(CONFIG_HELP + '\n'), 0;
        if (rest[0] === 'cluster') return io.stdout.write(CLUSTER_HELP + '\n'), 0;
        if (rest[0] === 'migrate') return io.stdout.write((await import('./migrate.js')).MIGRATE_HELP + '\n'), 0;
        if (rest[0] === 'profile') return io.stdout.write(PROFILE_HELP + '\n'), 0;
        if (rest[0] === 'telemetry') return io.stdout.write(TELEMETRY_HELP + '\n'), 0;
        if (rest[0] === 'rule') return io.stdout.write(RULE_HELP + '\n'), 0;
        if (rest[0] === 'alarm') return io.stdout.write(ALARM_HELP + '\n'), 0;
        if (rest[0] === 'command') return io.stdout.write(COMMAND_HELP + '\n'), 0;
        if (rest[0] === 'scenario') return io.stdout.write(SCENARIO_HELP + '\n'), 0;
        if (rest[0] === 'user') return io.stdout.write(USER_HELP + '\n'), 0;
        if (rest[0] === 'audit') return io.stdout.write(AUDIT_HELP + '\n'), 0;
        if (rest[0] === 'integration') return io.stdout.write(INTEGRATION_HELP + '\n'), 0;
        if (rest[0] === 'grant') return io.stdout.write(GRANT_HELP + '\n'), 0;
        if (rest[0] === 'customer') return io.stdout.write(CUSTOMER_HELP + '\n'), 0;
        if (rest[0] === 'group') return io.stdout.write(GROUP_HELP + '\n'), 0;
        if (rest[0] === 'tenant') return io.stdout.write(TENANT_HELP + '\n'), 0;
        if (rest[0] === 'quota') return io.stdout.write(QUOTA_HELP + '\n'), 0;
        if (rest[0] === 'role') return io.stdout.write(ROLE_HELP + '\n'), 0;
        if (rest[0] === 'ota') return io.stdout.write(OTA_HELP + '\n'), 0;
        if (rest[0] === 'backup') return io.stdout.write(BACKUP_HELP + '\n'), 0;
        if (rest[0] === 'restore') return io.stdout.write(RESTORE_HELP + '\n'), 0;
        return io.stdout.write(HELP + '\n'), 0;
      case '--help':
      case '-h':
        io.stdout.write(HELP + '\n');
        return 0;
      case '--version':
      case '-v':
        io.stdout.write('continuum 0.1.0\n');
        return 0;
      case undefined:
        io.stderr.write(HELP + '\n');
        return 1;
      default:
        throw new CliError(`unknown command "${command}" (run continuum --help)`);
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`continuum: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`continuum: ${message}\n`);
    if (io.env.CONTINUUM_DEBUG && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
    return 1;
  }
}
