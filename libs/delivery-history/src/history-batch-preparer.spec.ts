import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testLogger } from '@skyhook/testing';
import { HistoryBatchPreparer } from './history-batch-preparer';

/*
 * The preparer's own work (packing, answering in order, surviving its thread) against a stand-in
 * thread that speaks the same protocol; the real thread is compiled, and runs in the service's
 * integration tests.
 */
const STAND_IN = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (request) => {
  const text = Buffer.from(request.packed.bytes).toString();
  const answer = () => parentPort.postMessage({
    id: request.id,
    prepared: { text, lengths: Array.from(request.packed.lengths), schemas: request.packed.schemas, oldest: request.oldestRetainedDayMs },
  });
  if (text === 'exit') process.exit(3);
  else if (text === 'fail') parentPort.postMessage({ id: request.id, error: 'a bug' });
  else if (text === 'slow') setTimeout(answer, 100);
  else answer();
});
`;

const record = (text: string) => ({ value: Buffer.from(text), schema: 'delivery-event.v1' });

describe('history batch preparer', () => {
  let directory: string;
  let script: string;
  let preparer: HistoryBatchPreparer;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'preparer-'));
    script = join(directory, 'stand-in.js');
    writeFileSync(script, STAND_IN);
  });

  beforeEach(() => {
    preparer = new HistoryBatchPreparer(testLogger(), script);
  });

  afterEach(() => preparer.stop());

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('sends the records packed and gives each call its own answer, whatever order they come in', async () => {
    const slow = preparer.prepare([record('slow')], 7);
    const quick = preparer.prepare([record('a'), { value: null, schema: undefined }, record('bc')], 8);
    await expect(quick).resolves.toEqual({
      text: 'abc',
      lengths: [1, -1, 2],
      schemas: ['delivery-event.v1', null, 'delivery-event.v1'],
      oldest: 8,
    });
    await expect(slow).resolves.toMatchObject({ text: 'slow', oldest: 7 });
  });

  it('fails the call its thread could not prepare, and goes on', async () => {
    await expect(preparer.prepare([record('fail')], 0)).rejects.toThrow(
      'preparing delivery events failed: a bug',
    );
    await expect(preparer.prepare([record('next')], 0)).resolves.toMatchObject({ text: 'next' });
  });

  it('fails the calls in hand when its thread dies, and starts a new one for the next call', async () => {
    const inHand = preparer.prepare([record('slow')], 0);
    await expect(preparer.prepare([record('exit')], 0)).rejects.toThrow(
      'the delivery history preparation thread exited (code 3)',
    );
    await expect(inHand).rejects.toThrow('exited (code 3)');
    await expect(preparer.prepare([record('again')], 0)).resolves.toMatchObject({ text: 'again' });
  });

  it('fails a call, rather than leave it waiting, when its thread cannot start', async () => {
    const broken = new HistoryBatchPreparer(testLogger(), join(directory, 'missing.js'));
    try {
      await expect(broken.prepare([record('a')], 0)).rejects.toThrow(
        'the delivery history preparation thread exited',
      );
    } finally {
      await broken.stop();
    }
  });
});
