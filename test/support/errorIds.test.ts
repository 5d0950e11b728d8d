import { describe, expect, it } from 'vitest';
import { ErrorId } from '../../src/dap/errors.js';
import { ERR } from './errorIds.js';

describe('the pinned error ids', () => {
  it('are exactly the ids the adapter answers with (src/dap/errors.ts): none renumbered, added or dropped unnoticed', () => {
    expect({ ...ErrorId }).toEqual({ ...ERR });
  });
});
