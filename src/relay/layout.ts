/**
 * The on-disk names of the relay protocol (docs/relay-protocol.md), in one place.
 * Every other module reaches a relay file through a RelayLayout, never by joining names itself.
 */
import path from 'node:path';

export const DEFAULT_RELAY_DIR = '.relay';

export interface RelayLayout {
  readonly root: string;
  /** `host:pid:epoch_ns` of the server that owns the directory (Part A). */
  readonly owner: string;
  /** `host:pid:ISO-8601`, present for the whole life of a server (Part A). */
  readonly serverReady: string;
  readonly clientReady: string;
  readonly handshakeDone: string;
  /** `<id>:<pgid>` of the command now running (Part A). */
  readonly running: string;
  /** `<id>\n` of the command to cancel (Part A). */
  readonly cancel: string;
  /** `host:pid:epoch_ms`, rewritten every second by our server (Part C). */
  readonly heartbeat: string;
  readonly cmdDir: string;
  readonly resultDir: string;
  /** Bytes our server holds in reserve to write a result on a full disk (Part C; see diskSpace.ts). */
  readonly spaceReserve: string;
  /** `lease/<id>`: refreshed by a client that asked the server to cancel its command if it vanishes (Part C). */
  readonly leaseDir: string;
  /** `channel/<id>/`: one directory per open byte channel (Part D; see channelFiles). */
  readonly channelDir: string;
  /** A copy of `server.ready` written by a server that opens channels (Part D): its announcement. */
  readonly channelsReady: string;
  /** `session/<token>`: held by a debug session while terminals it opened may live (Part D; see sessionLease.ts). */
  readonly sessionDir: string;
  session(token: string): string;
  command(id: string): string;
  /** The name a Part-A client writes before renaming into place; ours uses it too. */
  commandTmp(id: string): string;
  /** Where a server (or a withdrawing client) moves a command file it has taken: no longer `*.sh`, so no longer work. */
  commandClaimed(id: string, claimer: string): string;
  log(id: string): string;
  exit(id: string): string;
  meta(id: string): string;
  lease(id: string): string;
}

const COMMAND_SUFFIX = '.sh';
const CLAIMED_PREFIX = '.claimed.';

export function relayLayout(root: string): RelayLayout {
  const abs = path.resolve(root);
  const cmdDir = path.join(abs, 'cmd');
  const resultDir = path.join(abs, 'result');
  const leaseDir = path.join(abs, 'lease');
  const channelDir = path.join(abs, 'channel');
  const sessionDir = path.join(abs, 'session');
  return {
    root: abs,
    owner: path.join(abs, 'owner'),
    serverReady: path.join(abs, 'server.ready'),
    clientReady: path.join(abs, 'client.ready'),
    handshakeDone: path.join(abs, 'handshake.done'),
    running: path.join(abs, 'running'),
    cancel: path.join(abs, 'cancel'),
    heartbeat: path.join(abs, 'heartbeat'),
    spaceReserve: path.join(abs, 'space.reserve'),
    cmdDir,
    resultDir,
    leaseDir,
    channelDir,
    channelsReady: path.join(abs, 'channels.ready'),
    sessionDir,
    session: (token) => path.join(sessionDir, token),
    command: (id) => path.join(cmdDir, id + COMMAND_SUFFIX),
    commandTmp: (id) => path.join(cmdDir, id + COMMAND_SUFFIX + '.tmp'),
    commandClaimed: (id, claimer) => path.join(cmdDir, `${CLAIMED_PREFIX}${claimer}.${id}`),
    log: (id) => path.join(resultDir, id + '.log'),
    exit: (id) => path.join(resultDir, id + '.exit'),
    meta: (id) => path.join(resultDir, id + '.json'),
    lease: (id) => path.join(leaseDir, id),
  };
}

/** The files of one channel (Part D): `channel/<id>/…`. */
export interface ChannelFiles {
  readonly id: string;
  readonly dir: string;
  /** JSON written by the client before the directory appears: the command, its cwd and env. The server deletes it once read. */
  readonly request: string;
  /** Written by the server that took the channel: its claim token and the process's pid. */
  readonly accepted: string;
  /** `host:pid:ISO-8601` of the client; its mtime, refreshed every second, is the client's lease. */
  readonly client: string;
  /** Written by the client: stop the process tree. */
  readonly cancel: string;
  /** JSON written by the server once the process tree has ended and its output is all written. */
  readonly exit: string;
  /** Client → process chunks (`in/<seq>`), and process → client (`out/<seq>`). */
  readonly inDir: string;
  readonly outDir: string;
}

/** Where a client builds a channel's directory before renaming it into place: not a channel id (it starts with a dot). */
export function channelDraftDir(layout: RelayLayout, id: string): string {
  return path.join(layout.channelDir, `.${id}.draft`);
}

export function channelFiles(layout: RelayLayout, id: string): ChannelFiles {
  const dir = path.join(layout.channelDir, id);
  return {
    id,
    dir,
    request: path.join(dir, 'request'),
    accepted: path.join(dir, 'accepted'),
    client: path.join(dir, 'client'),
    cancel: path.join(dir, 'cancel'),
    exit: path.join(dir, 'exit'),
    inDir: path.join(dir, 'in'),
    outDir: path.join(dir, 'out'),
  };
}

/** `cmd/` entries that are work: `<id>.sh`. Returns the id part, or undefined for anything else. */
export function commandIdFromFileName(name: string): string | undefined {
  return name.endsWith(COMMAND_SUFFIX) ? name.slice(0, -COMMAND_SUFFIX.length) : undefined;
}

/** `cmd/.claimed.<claimer>.<id>` entries, left behind only if a server died between taking and starting. */
export function parseClaimedFileName(name: string): { claimer: string; id: string } | undefined {
  if (!name.startsWith(CLAIMED_PREFIX)) return undefined;
  const rest = name.slice(CLAIMED_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0) return undefined;
  return { claimer: rest.slice(0, dot), id: rest.slice(dot + 1) };
}

/** `--relay-dir` wins, then `$RELAY_DIR`, then `./.relay`: the order Part A fixes. */
export function resolveRelayDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? (env.RELAY_DIR || DEFAULT_RELAY_DIR));
}
