/**
 * The relay server's console: each warning said once per cause, and a full disk once per
 * episode. The server checks everything every second; a line repeated at that pace would
 * bury the one that matters.
 */
export class ServerConsole {
  private readonly warned = new Set<string>();
  private diskFullReported = false;

  constructor(
    private readonly relayRoot: string,
    /** Console lines; default: none. */
    readonly log: (line: string) => void = () => {},
  ) {}

  /** Say `line` the first time `key` comes up, never again. */
  warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(line);
  }

  /** One line per episode of a full disk; `diskHasRoom` ends the episode. */
  reportDiskFull(line: string): void {
    if (this.diskFullReported) return;
    this.diskFullReported = true;
    this.log(line);
  }

  /** A write went through: if the disk was full, say that there is room again. */
  diskHasRoom(): void {
    if (!this.diskFullReported) return;
    this.diskFullReported = false;
    this.log(`there is room again on the disk holding relay directory ${this.relayRoot}`);
  }

  reportFilesystemError(error: unknown): void {
    const message = (error as Error).message ?? String(error);
    this.warnOnce(`fs:${message}`, `relay directory ${this.relayRoot}: ${message}`);
  }
}
