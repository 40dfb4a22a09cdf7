import { createHash } from 'node:crypto';

/**
 * The folder name of one database's spools and journal: a hash of its URL without the password (and of the
 * schema), so a spool is only ever replayed into the database it was written for and the
 * folder name reveals nothing.
 */
export function spoolKeyOf(databaseUrl: string | undefined, schema?: string): string {
  let identity = 'embedded';
  if (databaseUrl) {
    try {
      const url = new URL(databaseUrl);
      url.password = '';
      identity = url.href;
    } catch {
      identity = databaseUrl.replace(/:[^:@/]*@/, '@');
    }
  }
  return createHash('sha256').update(`${identity}|${schema ?? ''}`).digest('hex').slice(0, 16);
}
