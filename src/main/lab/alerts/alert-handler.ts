export type { AlertHandler } from '../../../shared/alerts';
