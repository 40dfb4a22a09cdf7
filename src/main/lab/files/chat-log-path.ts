import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../../../shared/format-issues';
import type { Scenario } from '../../../shared/scenario';
import { resourcePath } from './paths';

/** The chat logs shipped with cvlab (resources/chat-logs). */
export const shippedChatLogsFolder = (): string => resourcePath('chat-logs');

/** Where a replay's relative file name is looked up, in order. */
export interface ChatLogPlaces {
  /** The scenario file, when it came from one. */
  readonly scenarioFile?: string | undefined;
  /** The data folder's chat/ (the user's own logs). */
  readonly userFolder?: string | undefined;
}

/** The folders a relative name is looked up in, in order, each with its name for an error. */
export function chatLogFolders(places: ChatLogPlaces): { readonly folder: string; readonly what: string }[] {
  return [
    ...(places.scenarioFile ? [{ folder: dirname(resolve(places.scenarioFile)), what: 'next to the scenario file' }] : []),
    ...(places.userFolder ? [{ folder: places.userFolder, what: "in the data folder's chat/" }] : []),
    { folder: shippedChatLogsFolder(), what: 'among the shipped samples' },
  ];
}

/**
 * The chat log a replay names, as an absolute path: an absolute name as it is; a relative one
 * next to the scenario file, else in the data folder's chat/, else among the shipped samples.
 * A name found nowhere is bad input, and the error says where it looked.
 */
export function resolveChatLogPath(file: string, places: ChatLogPlaces): string {
  if (isAbsolute(file)) return file;
  const folders = chatLogFolders(places);
  for (const { folder } of folders) {
    const candidate = join(folder, file);
    if (existsSync(candidate)) return candidate;
  }
  throw new ValidationError(`chat log "${file}"`, [
    `not found: looked ${folders.map(({ folder, what }) => `${what} (${folder})`).join(', then ')}; a relative name is looked up next to the scenario file, then in the data folder's chat/, then among the shipped samples`,
  ]);
}

/** The scenario with its replay's chat log named by an absolute path (other executors unchanged). */
export function withResolvedChatLog(scenario: Scenario, places: ChatLogPlaces): Scenario {
  const executor = scenario.executor;
  if (executor.type !== 'replay') return scenario;
  return { ...scenario, executor: { ...executor, file: resolveChatLogPath(executor.file, places) } };
}
