import type { ScenarioDraft } from './scenario-draft';

/**
 * Scenario drafts kept in the browser's storage, per rig, so a reload (or a closed tab) never
 * loses an edit: the draft that was open and the edited ones parked while another was shown.
 */
export interface StoredDrafts {
  open: ScenarioDraft | null;
  parked: Record<string, ScenarioDraft>;
}

const key = (rig: string): string => `cvlab.scenario-drafts.${rig}`;

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage can be switched off (private windows, policies): drafts then live as long as the page.
    return null;
  }
}

function isDraft(value: unknown): value is ScenarioDraft {
  return typeof value === 'object' && value !== null && 'draft' in value && 'saved' in value && 'file' in value;
}

/** The drafts kept for a rig (none when nothing was kept or storage is off). */
export function readDrafts(rig: string): StoredDrafts {
  try {
    const parsed = JSON.parse(storage()?.getItem(key(rig)) ?? 'null') as Partial<StoredDrafts> | null;
    const parked = Object.fromEntries(Object.entries(parsed?.parked ?? {}).filter(([, draft]) => isDraft(draft)));
    return { open: isDraft(parsed?.open) ? parsed.open : null, parked };
  } catch {
    return { open: null, parked: {} };
  }
}

/** Keeps the open draft and the parked ones of a rig. */
export function writeDrafts(rig: string, drafts: StoredDrafts): void {
  try {
    storage()?.setItem(key(rig), JSON.stringify(drafts));
  } catch {
    // Full or switched off: the drafts stay in the page.
  }
}
