import type { Command } from 'commander';
import { runDoctor } from '../lab/doctor';
import { loadRig } from '../lab/files/rig-file';
import { formatTable } from './format';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check Redis, PostgreSQL, the OSC target and tap, serial ports and Electron for a rig')
    .option('--rig <file>', 'rig file (default: the built-in demo rig)')
    .action(async (options: { rig?: string }) => {
      const rig = await loadRig(options.rig);
      const checks = await runDoctor(rig);
      console.log(`rig: ${rig.name}\n`);
      console.log(formatTable(['check', 'status', 'detail'], checks.map((check) => [check.name, check.ok ? 'OK' : 'PROBLEM', check.detail])));
    });
}
