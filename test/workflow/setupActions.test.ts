import { describe, expect, it } from 'vitest';
import { describeSkippedSetupAction } from '../../src/workflow/setupActions.js';

describe('describeSkippedSetupAction', () => {
  it('names the action as written and what it does on GitHub', () => {
    expect(describeSkippedSetupAction('actions/setup-go@v5')).toBe(
      'actions/setup-go@v5 skipped: on GitHub it installs go and puts it on PATH; here the steps use the go found on PATH, if any',
    );
    expect(describeSkippedSetupAction('actions/cache/restore@v4')).toMatch(
      /^actions\/cache\/restore@v4 skipped: /,
    );
    expect(describeSkippedSetupAction('someone/upload-artifact@v1')).toMatch(/uploads files/);
    expect(describeSkippedSetupAction('Actions/Checkout@main')).toMatch(/clones the repository/);
  });

  it('says nothing of an action outside the table', () => {
    expect(describeSkippedSetupAction('octo-org/lint-action@v1')).toBeUndefined();
    expect(describeSkippedSetupAction('./.github/actions/setup')).toBeUndefined();
    expect(describeSkippedSetupAction('actions/checkout-extra@v1')).toBeUndefined();
  });
});
