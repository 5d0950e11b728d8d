/**
 * The pause between steps: one wait, released by exactly one action. Cancellation must
 * always be able to release it (a job that is cancelled while paused ends at once), so
 * `cancel()` works whether or not anyone is waiting, and a wait begun after it returns at once.
 */
export type ResumeAction =
  | { kind: 'continue' }
  | { kind: 'next' }
  /** Reposition before another step (goto) or the same one again (restart), and pause there. */
  | { kind: 'goto'; stepIndex: number; reason: 'goto' | 'restart' }
  | { kind: 'cancel' };

export class PauseGate {
  private release: ((action: ResumeAction) => void) | undefined;
  private cancelled = false;

  get waiting(): boolean {
    return this.release !== undefined;
  }

  wait(): Promise<ResumeAction> {
    if (this.cancelled) return Promise.resolve({ kind: 'cancel' });
    return new Promise((resolve) => (this.release = resolve));
  }

  /** Release the current wait; false if no one is waiting. */
  resume(action: ResumeAction): boolean {
    const release = this.release;
    if (!release) return false;
    this.release = undefined;
    release(action);
    return true;
  }

  cancel(): void {
    this.cancelled = true;
    this.resume({ kind: 'cancel' });
  }
}
