import type { Command } from 'commander';
import { EXIT_CODES } from '../../shared/exit-codes';
import { runDoctor } from '../lab/doctor';
import { loadRig } from '../lab/files/rig-file';
import { listExitCodes } from './exit-status';
import { formatTable } from './format';

export function registerDoctorCommand(program: Command): void {
  const command = program
    .command('doctor')
    .description('check Redis, PostgreSQL, the OSC target and tap, serial ports and Electron for a rig')
    .option('--rig <file>', 'rig file (default: the built-in demo rig)')
    .action(async (options: { rig?: string }) => {
      const rig = await loadRig(options.rig);
      const checks = await runDoctor(rig);
      console.log(`rig: ${rig.name}\n`);
      console.log(formatTable(['check', 'status', 'detail'], checks.map((check) => [check.name, check.ok ? 'OK' : 'PROBLEM', check.detail])));
      // A script that asks "is the bench ready?" reads the answer from the code.
      if (checks.some((check) => !check.ok)) process.exitCode = EXIT_CODES.serviceUnreachable;
    });
  listExitCodes(command, {
    0: 'every row is OK',
    3: 'a row says PROBLEM: a service, the converter, the tap port or the probe the rig names is not ready',
  });
}
