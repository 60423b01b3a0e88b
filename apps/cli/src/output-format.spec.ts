import { formatDisabledSubscriptions, formatReplayJob, formatTable } from './output-format';

describe('CLI output', () => {
  it('aligns columns to the widest cell and leaves no trailing spaces', () => {
    expect(
      formatTable(
        ['ID', 'URL', 'NOTE'],
        [
          ['sub_1', 'https://a.example', ''],
          ['sub_22', 'https://b', 'x'],
        ],
      ),
    ).toBe(
      ['ID      URL                NOTE', 'sub_1   https://a.example', 'sub_22  https://b          x'].join(
        '\n',
      ),
    );
  });

  it('says so when no endpoint is disabled instead of printing an empty table', () => {
    expect(formatDisabledSubscriptions([])).toBe('No disabled endpoints.');
  });

  it('shows a failed replay with its error', () => {
    const text = formatReplayJob({
      id: 'rpl_1',
      subscriptionId: 'sub_1',
      state: 'failed',
      since: '2026-05-31T00:00:00.000Z',
      until: '2026-06-01T00:00:00.000Z',
      statuses: ['failed'],
      matched: 2,
      enqueued: 1,
      error: 'subscription deleted',
      createdAt: '2026-06-01T00:00:00.000Z',
      updatedAt: '2026-06-01T00:00:01.000Z',
      finishedAt: '2026-06-01T00:00:01.000Z',
    });
    expect(text.split('\n')).toEqual([
      'Replay rpl_1 of sub_1: failed, 1 of 2 deliveries enqueued.',
      'Window 2026-05-31T00:00:00.000Z to 2026-06-01T00:00:00.000Z, statuses failed.',
      'Error: subscription deleted',
    ]);
  });
});
