import { EventLoopLoad } from './event-loop-load';

describe('EventLoopLoad', () => {
  it('reads near 1 after the loop was kept busy, and near 0 after it waited', async () => {
    const load = new EventLoopLoad();
    load.sample();
    const busyUntil = Date.now() + 200;
    while (Date.now() < busyUntil) {
      // Keeps the event loop running, as a saturated dispatcher does.
    }
    expect(load.sample()).toBeGreaterThan(0.8);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(load.sample()).toBeLessThan(0.3);
    expect(load.utilisation).toBeLessThan(0.3);
  });

  it('samples on a timer once started, and stops', async () => {
    const load = new EventLoopLoad(20);
    load.start();
    const busyUntil = Date.now() + 100;
    while (Date.now() < busyUntil) {
      // busy
    }
    // The interval is overdue: it fires before a timer that expires later.
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(load.utilisation).toBeGreaterThan(0.5);
    load.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(load.utilisation).toBeGreaterThan(0.5);
  });
});
