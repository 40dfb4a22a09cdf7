import type { Outcome } from '../../../shared/message';
import type { OutcomeCounts } from '../../../shared/run';

/** Counts outcomes by status and rejection code (`failed` counts under its own code). */
export class OutcomeTally {
  accepted = 0;
  rejected = 0;
  failed = 0;
  readonly byCode = new Map<string, number>();

  get completed(): number {
    return this.accepted + this.rejected + this.failed;
  }

  add(outcome: Outcome): void {
    if (outcome.status === 'accepted') this.accepted++;
    else if (outcome.status === 'rejected') {
      this.rejected++;
      this.byCode.set(outcome.rejection.code, (this.byCode.get(outcome.rejection.code) ?? 0) + 1);
    } else {
      this.failed++;
      this.byCode.set('failed', (this.byCode.get('failed') ?? 0) + 1);
    }
  }

  /** Adds counts tallied elsewhere: `codes[i]` messages under `names[i]` (the last name is `failed`). */
  absorb(accepted: number, rejected: number, codes: ArrayLike<number>, names: readonly string[]): void {
    this.accepted += accepted;
    this.rejected += rejected;
    for (let index = 0; index < names.length; index++) {
      const count = codes[index] ?? 0;
      if (count === 0) continue;
      const name = names[index] as string;
      if (name === 'failed') this.failed += count;
      this.byCode.set(name, (this.byCode.get(name) ?? 0) + count);
    }
  }

  code(code: string): number {
    return this.byCode.get(code) ?? 0;
  }

  counts(): OutcomeCounts {
    return { accepted: this.accepted, rejected: this.rejected, failed: this.failed, byCode: Object.fromEntries(this.byCode) };
  }

  reset(): void {
    this.accepted = 0;
    this.rejected = 0;
    this.failed = 0;
    this.byCode.clear();
  }
}
