/**
 * The exception breakpoints a job offers: pause after a failed or a cancelled step. A file of
 * its own because the `initialize` answer lists them, and that answer must not load the
 * breakpoint machinery (and the expression engine under it), which only a launch needs.
 */
export const EXCEPTION_FILTERS = [
  {
    filter: 'failed',
    label: 'Failed steps',
    description: 'Pause right after a step fails, before the job goes on or ends.',
    default: true,
  },
  {
    filter: 'cancelled',
    label: 'Cancelled steps',
    description: 'Pause after a step is cancelled (its timeout ran out, or its progress was cancelled).',
    default: false,
  },
] as const;
