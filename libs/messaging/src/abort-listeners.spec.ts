import { onAbort, sleepUnlessAborted } from './abort-listeners';

describe('onAbort', () => {
  it('calls each registered callback once when the signal aborts, except those unregistered', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const callback = () => calls.push('twice');
    onAbort(controller.signal, () => calls.push('a'));
    const unregister = onAbort(controller.signal, () => calls.push('gone'));
    onAbort(controller.signal, callback);
    onAbort(controller.signal, callback);
    unregister();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['a', 'twice', 'twice']);
  });

  it('calls at once for a signal that has already aborted', () => {
    const calls: number[] = [];
    onAbort(AbortSignal.abort(), () => calls.push(1));
    expect(calls).toEqual([1]);
  });

  it('adds one listener to the signal however many callbacks wait on it', () => {
    const controller = new AbortController();
    const adds = jest.spyOn(controller.signal, 'addEventListener');
    for (let n = 0; n < 1_000; n += 1) onAbort(controller.signal, () => undefined);
    expect(adds).toHaveBeenCalledTimes(1);
  });
});

describe('sleepUnlessAborted', () => {
  it('resolves after the delay', async () => {
    const started = Date.now();
    await sleepUnlessAborted(20, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const sleeping = sleepUnlessAborted(60_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(sleeping).rejects.toThrow('stopping');
    await expect(sleepUnlessAborted(1, controller.signal)).rejects.toThrow('stopping');
  });
});
