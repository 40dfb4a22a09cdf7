// Tests wait for a condition, never for a fixed time: a busy machine only makes them slower.

/** Polls `condition` until it holds or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
