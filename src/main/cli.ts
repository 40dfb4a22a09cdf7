#!/usr/bin/env node
// The `cvlab` program. Plain Node: it never loads Electron.
import { Command } from 'commander';
import { registerAgentCommand } from './cli/agent';
import { registerChatCommands } from './cli/chat';
import { registerDoctorCommand } from './cli/doctor';
import { checkedExitCode, describeFailure, exitCodeOf, listExitCodes } from './cli/exit-status';
import { registerLoopbackCommands } from './cli/loopback';
import { registerReportCommands } from './cli/report';
import { registerRunCommand } from './cli/run';
import { registerSendCommand } from './cli/send';
import { registerServeCommand } from './cli/serve';

const program = new Command();
program
  .name('cvlab')
  .description('Bench console for a chat-controlled LZX video synth: run the chat→OSC pipeline under load and measure it')
  .version('0.1.0')
  // Commander's own errors (unknown option, missing argument) come back as exceptions, so they
  // get their exit code from the same table as every other failure. Subcommands inherit it.
  .exitOverride()
  .showSuggestionAfterError();
listExitCodes(program);

registerSendCommand(program);
registerDoctorCommand(program);
registerServeCommand(program);
registerRunCommand(program);
registerLoopbackCommands(program);
registerAgentCommand(program);
registerReportCommands(program);
registerChatCommands(program);

/** Ends the process at once with the table's code for an error that escaped every command. */
function unexpected(error: unknown): void {
  console.error(describeFailure(error));
  process.exit(exitCodeOf(error));
}
process.on('uncaughtException', unexpected);
process.on('unhandledRejection', unexpected);

let code: number;
try {
  await program.parseAsync(process.argv);
  code = checkedExitCode(process.exitCode);
  if (code !== Number(process.exitCode ?? 0)) console.error(`cvlab: a command set exit code ${process.exitCode}, which is not in the table; this is a bug`);
} catch (error) {
  const said = describeFailure(error);
  if (said !== undefined) console.error(said);
  code = exitCodeOf(error);
}
// Every command has awaited its own clean-up by now; a handle some library keeps open (a
// socket's keep-alive, a timer) must not hold the shell's prompt.
process.exit(code);
