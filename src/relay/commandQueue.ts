/**
 * The server's view of `cmd/`: the queued ids in the order they run (lexicographic, which
 * is submission order). Kept sorted between rescans from the names that events report, so
 * that a deep queue does not cost a directory listing and a sort per command; the periodic
 * rescan rebuilds it from the directory itself.
 */
import path from 'node:path';
import { existsNoFollow, listDirectory } from './files.js';
import { describeInvalidId, isValidCommandId } from './ids.js';
import { commandIdFromFileName, type RelayLayout } from './layout.js';

export class CommandQueue {
  private ids: string[] = [];

  constructor(
    private readonly layout: RelayLayout,
    /** Called for a command file whose id is not valid (the caller reports it once). */
    private readonly onInvalid: (name: string, reason: string) => void,
  ) {}

  /** Rebuild from the directory. */
  rescan(): void {
    const ids: string[] = [];
    for (const name of listDirectory(this.layout.cmdDir)) {
      const id = this.idOf(name);
      if (id !== undefined) ids.push(id);
    }
    // Ids are ASCII, so code-unit order is byte order: the order Part A fixes.
    this.ids = ids.sort();
  }

  /** An event named `changedPath`: add or drop that one command. */
  noteChange(changedPath: string): void {
    if (path.dirname(changedPath) !== this.layout.cmdDir) return;
    const id = this.idOf(path.basename(changedPath));
    if (id === undefined) return;
    const at = this.position(id);
    const present = this.ids[at] === id;
    if (existsNoFollow(this.layout.command(id))) {
      if (!present) this.ids.splice(at, 0, id);
    } else if (present) {
      this.ids.splice(at, 1);
    }
  }

  /** Queued ids, first to run first. */
  snapshot(): readonly string[] {
    return this.ids;
  }

  remove(id: string): void {
    const at = this.position(id);
    if (this.ids[at] === id) this.ids.splice(at, 1);
  }

  get length(): number {
    return this.ids.length;
  }

  private idOf(name: string): string | undefined {
    const id = commandIdFromFileName(name);
    if (id === undefined) return undefined;
    if (isValidCommandId(id)) return id;
    this.onInvalid(JSON.stringify(name.slice(0, 60)), describeInvalidId(id));
    return undefined;
  }

  /** Binary search: where `id` is, or would be inserted. */
  private position(id: string): number {
    let low = 0;
    let high = this.ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ids[mid]! < id) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
