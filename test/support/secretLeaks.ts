/**
 * Looking for secrets where a user could see them: every message the adapter sent a client, and
 * any other text (stderr, a log file, a trace file), each checked for each value.
 */
import type { DapClient } from './dapClient.js';

/** Every message the adapter sent this client (events and responses), one JSON line each. */
export function receivedMessages(client: DapClient): string {
  return client.transcript
    .filter(({ direction }) => direction === 'received')
    .map(({ message }) => JSON.stringify(message))
    .join('\n');
}

/** `channel: what` for each value a channel shows: what a test expects to be empty. */
export function leaks(channels: Record<string, string>, values: Record<string, string>): string[] {
  return Object.entries(channels).flatMap(([channel, text]) =>
    Object.entries(values)
      .filter(([, value]) => text.includes(value))
      .map(([what]) => `${channel}: ${what}`),
  );
}
