/**
 * ANSI escape sequences (colours, cursor movement, OSC titles and links) are stripped from
 * output unless the client said it renders them (`supportsANSIStyling`).
 */
// CSI … final byte, OSC … BEL or ST, and two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;

export function stripAnsi(text: string): string {
  return text.includes('\u001b') ? text.replace(ANSI, '') : text;
}
