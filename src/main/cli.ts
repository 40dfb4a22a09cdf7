#!/usr/bin/env node
// The `cvlab` command line. Plain Node: it never loads Electron.
import { Command } from 'commander';
import { EXIT_CODES, ServiceUnreachableError } from '../shared/exit-codes';
import { ValidationError } from '../shared/format-issues';
import { registerAgentCommand } from './cli/agent';
import { registerChatCommands } from './cli/chat';
import { registerDoctorCommand } from './cli/doctor';
import { registerLoopbackCommands } from './cli/loopback';
import { registerReportCommands } from './cli/report';
import { registerRunCommand } from './cli/run';
import { registerSendCommand } from './cli/send';
import { registerServeCommand } from './cli/serve';

const program = new Command();
program
  .name('cvlab')
  .description('Bench console for a chat-controlled LZX video synth: run the chat→OSC pipeline under load and measure it')
  .version('0.1.0');

registerSendCommand(program);
registerDoctorCommand(program);
registerServeCommand(program);
registerRunCommand(program);
registerLoopbackCommands(program);
registerAgentCommand(program);
registerReportCommands(program);
registerChatCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Expected failures (bad files, missing services) get one plain message, not a stack trace.
  console.error(error instanceof ValidationError ? error.message : `cvlab: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode =
    error instanceof ValidationError
      ? EXIT_CODES.badInput
      : error instanceof ServiceUnreachableError
        ? EXIT_CODES.serviceUnreachable
        : EXIT_CODES.failed;
}
