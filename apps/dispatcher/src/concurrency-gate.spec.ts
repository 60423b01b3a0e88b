import { ConcurrencyGate, GateAbortedError } from './concurrency-gate';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('caps slots per key while other keys go ahead', async () => {
    const gate = new ConcurrencyGate(2, 10);
    const slow1 = await gate.acquire('slow');
    await gate.acquire('slow');
    let thirdSlow = false;
    void gate.acquire('slow').then(() => {
      thirdSlow = true;
    });
    const other = await gate.acquire('healthy');
    await tick();
    expect(thirdSlow).toBe(false);
    expect(gate.inFlight).toBe(3);
    other();
    slow1();
    await tick();
    expect(thirdSlow).toBe(true);
  });

  it('caps slots over the process and serves waiters first come, first served', async () => {
    const gate = new ConcurrencyGate(5, 2);
    const a = await gate.acquire('a');
    await gate.acquire('b');
    const order: string[] = [];
    void gate.acquire('c').then(() => order.push('c'));
    void gate.acquire('d').then(() => order.push('d'));
    await tick();
    expect(order).toEqual([]);
    a();
    await tick();
    expect(order).toEqual(['c']);
  });

  it('lets a waiter give up, and giving back twice is harmless', async () => {
    const gate = new ConcurrencyGate(1, 10);
    const held = await gate.acquire('a');
    const abort = new AbortController();
    const waiting = gate.acquire('a', abort.signal);
    abort.abort();
    await expect(waiting).rejects.toBeInstanceOf(GateAbortedError);
    held();
    held();
    expect(gate.inFlight).toBe(0);
    const again = await gate.acquire('a');
    expect(gate.inFlight).toBe(1);
    again();
  });
});
