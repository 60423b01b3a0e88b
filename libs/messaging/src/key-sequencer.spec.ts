import { KeySequencer, SequenceAbandonedError } from './key-sequencer';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('KeySequencer', () => {
  const signal = new AbortController().signal;

  it('runs one key’s work one at a time, in the order offered, and other keys beside it', async () => {
    const sequencer = new KeySequencer();
    const started: string[] = [];
    const first = deferred();
    const work = (name: string, wait?: Promise<void>) => async () => {
      started.push(name);
      await wait;
    };
    const a1 = sequencer.run('a', {}, work('a1', first.promise), signal);
    const a2 = sequencer.run('a', {}, work('a2'), signal);
    const b1 = sequencer.run('b', {}, work('b1'), signal);
    await flush();
    expect(started).toEqual(['a1', 'b1']);
    expect(sequencer.busy('a')).toBe(true);
    first.resolve();
    await Promise.all([a1, a2, b1]);
    expect(started).toEqual(['a1', 'b1', 'a2']);
    expect(sequencer.activeKeys).toBe(0);
  });

  it('names the latest work of a key, what new work would wait behind, until the key is idle', async () => {
    const sequencer = new KeySequencer();
    const first = deferred();
    const [token1, token2] = [{}, {}];
    expect(sequencer.latest('a')).toBeUndefined();
    const a1 = sequencer.run('a', token1, () => first.promise, signal, 'del_1');
    expect(sequencer.latest('a')).toBe('del_1');
    const a2 = sequencer.run('a', token2, () => Promise.resolve(), signal, 'del_2');
    expect(sequencer.latest('a')).toBe('del_2');
    expect([sequencer.offered(token1), sequencer.offered(token2), sequencer.offered({})]).toEqual([
      true,
      true,
      false,
    ]);
    first.resolve();
    await Promise.all([a1, a2]);
    expect(sequencer.latest('a')).toBeUndefined();
  });

  it('keeps a failed work’s place: the next waits until the same token is offered again and succeeds', async () => {
    const sequencer = new KeySequencer();
    const token = {};
    const started: string[] = [];
    let failNext = true;
    const head = () => {
      started.push('head');
      return failNext ? Promise.reject(new Error('handing on failed')) : Promise.resolve();
    };
    await expect(sequencer.run('k', token, head, signal)).rejects.toThrow('handing on failed');
    const next = sequencer.run('k', {}, () => Promise.resolve(void started.push('next')), signal);
    await flush();
    expect(started).toEqual(['head']);
    failNext = false;
    await sequencer.run('k', token, head, signal);
    await next;
    expect(started).toEqual(['head', 'head', 'next']);
  });

  it('lets waiting work give up when its signal aborts (its partition taken away)', async () => {
    const sequencer = new KeySequencer();
    const stuck = deferred();
    const assignment = new AbortController();
    const head = sequencer.run('k', {}, () => stuck.promise, assignment.signal);
    await flush();
    const waiting = sequencer.run('k', {}, () => Promise.resolve('ran'), assignment.signal);
    assignment.abort();
    stuck.resolve();
    await head;
    await expect(waiting).rejects.toBeInstanceOf(SequenceAbandonedError);
    await expect(
      sequencer.run('k', {}, () => Promise.resolve('late'), assignment.signal),
    ).rejects.toBeInstanceOf(SequenceAbandonedError);
  });
});
