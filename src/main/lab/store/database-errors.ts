import { ServiceUnreachableError } from '../../../shared/exit-codes';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', '57P01', '57P02', '57P03']);

/** Where a database URL points, in the user's words, without its password. */
export function describeDatabase(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `PostgreSQL at ${url.hostname}:${url.port || '5432'}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** True when `error` says the database could not be reached (as opposed to a bad query). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof ServiceUnreachableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i.test(error.message);
}

/**
 * A connection failure from `pg` in plain words: which server, and what to check. Other errors
 * come back unchanged. The URL's source is named, since a typo there is the common cause.
 */
export function plainDatabaseError(error: unknown, connectionString: string): unknown {
  if (error instanceof ServiceUnreachableError || !isConnectionError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const service = describeDatabase(connectionString);
  const host = (() => {
    try {
      return new URL(connectionString).hostname;
    } catch {
      return '';
    }
  })();
  const source = 'check --database-url, the rig\'s "databaseUrl" or DATABASE_URL';
  let detail: string;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') detail = `the host name "${host}" does not resolve to an address (${source})`;
  else if (code === 'ECONNREFUSED') detail = `nothing is listening on that port (is PostgreSQL running? ${source})`;
  else if (code === 'ETIMEDOUT' || /timeout/i.test((error as Error).message)) detail = `no answer within the connection timeout (a firewall, a frozen server or a wrong host; ${source})`;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') detail = `the host is not reachable from this machine (${source})`;
  else if (code?.startsWith('57P')) detail = 'the server is shutting down or restarting; try again once it is up';
  else detail = 'the connection was cut (the server stopped or restarted)';
  return new ServiceUnreachableError(service, detail);
}
