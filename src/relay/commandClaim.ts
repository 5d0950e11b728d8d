/**
 * Taking the next command from `cmd/`: the rename that is the claim (of two servers, or a
 * server and a withdrawing client, one wins), and the checks that only our own user's regular
 * command files run. A command that will not run is answered here (exit 126, and why) so that
 * its client is not left waiting; its text is never shown (it may hold secrets).
 */
import fs from 'node:fs';
import { describeUid, selfUid } from '../io/fileOwner.js';
import type { CommandQueue } from './commandQueue.js';
import { isPermissionDenied, removeIfExists, renameIfExists, writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';
import { foreignFileError, uidMismatchHint } from './relayDirectory.js';
import type { ResultPublisher } from './resultPublisher.js';
import { EXIT_CANNOT_EXECUTE, resultWithoutRun } from './results.js';
import type { ServerConsole } from './serverConsole.js';

/** A command this server has claimed: it is ours to run, and no other server's. */
export interface ClaimedCommand {
  id: string;
  /** `cmd/.claimed.<token>.<id>`: removed once the command runs, renamed back if it cannot start. */
  file: string;
  text: Buffer;
}

/** What an `lstat` found under a command's name, in words for the console. */
function commandFileKind(
  stat: fs.Stats | undefined,
): 'file' | 'missing' | 'directory' | 'FIFO' | 'symlink' | 'special file' {
  if (!stat) return 'missing';
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'special file';
}

/** A claimed command file's bytes; never blocks (a FIFO swapped in), never follows a link, only ours. */
function readCommandFile(file: string): Buffer {
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    // The owner was checked on the name before the claim; this is the file actually read.
    if (stat.uid !== selfUid()) throw Object.assign(new Error(`${file} is not ours`), { code: 'EACCES' });
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class CommandClaimer {
  constructor(
    private readonly layout: RelayLayout,
    private readonly queue: CommandQueue,
    /** Names this server's claimed command files; never holds a dot (see layout). */
    private readonly claimToken: string,
    private readonly serverConsole: ServerConsole,
    private readonly publisher: ResultPublisher,
  ) {}

  /**
   * Claim the first queued command that can run, answering those that cannot on the way.
   * Throws (with the command put back) when its file cannot be read for a reason that
   * waiting may fix.
   */
  claimNext(): ClaimedCommand | undefined {
    for (const id of [...this.queue.snapshot()]) {
      this.queue.remove(id);
      // Only regular files are commands: a directory or a FIFO with a command's name is left
      // alone (reading a FIFO would block the server; claiming a directory would loop).
      const stat = fs.lstatSync(this.layout.command(id), { throwIfNoEntry: false });
      const kind = commandFileKind(stat);
      if (kind !== 'file') {
        if (kind !== 'missing') {
          this.serverConsole.warnOnce(
            `kind:${id}`,
            `leaving cmd/${JSON.stringify(id + '.sh')} alone: it is a ${kind}, not a command file`,
          );
        }
        continue;
      }
      const claimed = this.layout.commandClaimed(id, this.claimToken);
      // The rename is the claim: of two servers (or a server and a withdrawing client), one wins.
      if (!renameIfExists(this.layout.command(id), claimed)) continue;
      // Only our own user's commands run as us. The directory checks keep other users out;
      // this catches what they cannot: a client running as another user (root's, say,
      // into a directory served by a `docker run --user` server), whose files we may not
      // even read. Its client is answered (126, and why), instead of waiting forever.
      if (stat!.uid !== selfUid()) {
        this.answerNotRun(
          id,
          claimed,
          `cmd/${id}.sh belongs to ${describeUid(stat!.uid)}, but this relay server runs as ${describeUid(selfUid())} ` +
            `and runs only its own user's commands: ${uidMismatchHint(stat!.uid)}`,
        );
        continue;
      }
      try {
        return { id, file: claimed, text: readCommandFile(claimed) };
      } catch (error) {
        const foreign = foreignFileError(claimed, error, 'read the command file');
        if (!foreign && !isPermissionDenied(error)) {
          this.putBack({ id, file: claimed });
          throw error;
        }
        this.answerNotRun(
          id,
          claimed,
          foreign?.message ??
            `cannot read cmd/${id}.sh (${(error as NodeJS.ErrnoException).code}): it is not readable by its owner`,
        );
        return undefined;
      }
    }
    return undefined;
  }

  /** Nothing ran: the command goes back into the queue, so that it is not lost. */
  putBack(command: Pick<ClaimedCommand, 'id' | 'file'>): void {
    renameIfExists(command.file, this.layout.command(command.id));
  }

  /**
   * A command that will not run: its client gets exit 126 and a log line saying why, the
   * server's console says it once. The text itself is never shown (it may hold secrets).
   */
  private answerNotRun(id: string, claimed: string, reason: string): void {
    const line = `[relay] not run: ${reason}.`;
    writeFileAtomic(this.layout.log(id), `${line}\n`);
    this.publisher.publish(resultWithoutRun(id, EXIT_CANNOT_EXECUTE, { note: line }), undefined);
    removeIfExists(claimed);
    this.serverConsole.log(`[${id}] not run (exit ${EXIT_CANNOT_EXECUTE}): ${reason}`);
  }
}
