/** Other processes of this machine, by pid. */

/** Whether `pid` is a live process (one we may not signal is alive too). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
