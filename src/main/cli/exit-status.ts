import { CommanderError, type Command } from 'commander';
import { BadInputError, EXIT_CODE_MEANINGS, EXIT_CODES, exitCodeOfError, type ExitCode } from '../../shared/exit-codes';

// The one place where an outcome becomes an exit code: every command's errors, commander's own
// (unknown option, missing argument) and the code a command chose all pass through here.

const ALL_CODES = new Set<number>(Object.values(EXIT_CODES));

/** The exit code an error stands for. */
export function exitCodeOf(error: unknown): ExitCode {
  // Commander's own exits: --help and --version are not errors; the rest are the command line's.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.passed : EXIT_CODES.badInput;
  return exitCodeOfError(error);
}

/** The one line (or lines) said for an error; commander has already printed its own. */
export function describeFailure(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (error instanceof BadInputError) return error.message;
  if (exitCodeOf(error) === EXIT_CODES.internalError) {
    // Unexpected: where it happened matters to whoever fixes it.
    return `cvlab failed unexpectedly (exit ${EXIT_CODES.internalError}, a bug; please report it with this message):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  return `cvlab: ${error instanceof Error ? error.message : String(error)}`;
}

/** A code a command set itself must be one of the table's; anything else is a bug. */
export function checkedExitCode(code: string | number | null | undefined): ExitCode {
  if (code === undefined || code === null) return EXIT_CODES.passed;
  const number = Number(code);
  return ALL_CODES.has(number) ? (number as ExitCode) : EXIT_CODES.internalError;
}

/**
 * Adds the table of exit codes to a command's --help: every code, with what it means for this
 * command where it says more than the table.
 */
export function listExitCodes(command: Command, specific: Partial<Record<ExitCode, string>> = {}): Command {
  const lines = (Object.keys(EXIT_CODE_MEANINGS) as unknown as ExitCode[]).map((code) => {
    const meaning = specific[code] ?? EXIT_CODE_MEANINGS[code];
    return `  ${code}  ${meaning}`;
  });
  return command.addHelpText('after', `\nExit codes:\n${lines.join('\n')}`);
}
