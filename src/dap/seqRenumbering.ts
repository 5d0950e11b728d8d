/**
 * The seq numbers of messages relayed into a connection the relayer writes: the reader sees
 * 1, 2, 3… in the order they are written, as DAP asks, whoever numbered them first. debugpy's
 * adapter writes from more than one thread, and its seqs are not always in order on the wire;
 * a child session's messages also continue the parent adapter's own numbering on the same
 * connection (hostedSession.ts). A reverse request keeps working: the reader's response names
 * the new number, and is given back the one its sender used.
 */
type Message = Record<string, unknown>;

export class SeqRenumbering {
  private last = 0;
  /** New seq → the sender's, for requests the reader is to answer. */
  private readonly requests = new Map<number, number>();

  /** The connection already carried `seq` (a message written by someone else): continue after it. */
  carried(seq: number): void {
    this.last = Math.max(this.last, seq);
  }

  /** `message`, numbered next. */
  outgoing(message: Message): Message {
    const seq = ++this.last;
    if (message.type === 'request' && typeof message.seq === 'number') this.requests.set(seq, message.seq);
    return { ...message, seq };
  }

  /** A message from the reader: a response to a renumbered request names the sender's seq again. */
  incoming(message: Message): Message {
    if (message.type !== 'response' || typeof message.request_seq !== 'number') return message;
    const original = this.requests.get(message.request_seq);
    if (original === undefined) return message;
    this.requests.delete(message.request_seq);
    return { ...message, request_seq: original };
  }
}
