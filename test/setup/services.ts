// What the tests connect to; the global setup has resolved both before any test file runs.
export const redisUrl = (): string => process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const databaseUrl = (): string => process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export { freePort } from './global-services';
