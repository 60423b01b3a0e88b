import { PendingBudget } from './pending-budget';

/** Finishes `count` records spread over `ms`, asking the budget as a consumer would. */
function finishOver(budget: PendingBudget, count: number, from: number, ms: number): number {
  for (let n = 0; n < count; n += 1) {
    budget.noteFinished();
    budget.limit(from + Math.floor((n * ms) / count));
  }
  return from + ms;
}

describe('PendingBudget', () => {
  it('holds the floor until something finishes', () => {
    const budget = new PendingBudget(1_000, 2_000, 0);
    expect(budget.limit(0)).toBe(2_000);
    expect(budget.limit(5_000)).toBe(2_000);
  });

  it('grows to what finishes in the horizon at the recent pace, and falls back to the floor when quiet', () => {
    const budget = new PendingBudget(1_000, 2_000, 0);
    let now = 0;
    // 5,000 a second for three seconds.
    for (let second = 0; second < 3; second += 1) now = finishOver(budget, 5_000, now, 1_000);
    expect(budget.limit(now)).toBeGreaterThan(4_500);
    expect(budget.limit(now)).toBeLessThanOrEqual(5_000);
    // Quiet for five seconds: the pace seen next is nothing.
    expect(budget.limit(now + 5_000)).toBe(2_000);
  });

  it('lets a partition under its even share take records when the total is over budget, and not one holding its share', () => {
    const budget = new PendingBudget(1_000, 2_400, 0);
    // Over the budget of 2,400 among 24 partitions: the even share is 100.
    expect(budget.admits(10, 2_400, 24, 0)).toBe(true);
    expect(budget.admits(100, 2_400, 24, 0)).toBe(false);
    // Under the budget any partition takes more (its own bound is the consumer's to check).
    expect(budget.admits(1_500, 2_000, 24, 0)).toBe(true);
  });

  it('readmits a paused partition only with room to spare', () => {
    const budget = new PendingBudget(1_000, 2_400, 0);
    expect(budget.readmits(100, 2_300, 24, 0)).toBe(false);
    expect(budget.readmits(100, 1_800, 24, 0)).toBe(true);
    expect(budget.readmits(50, 2_400, 24, 0)).toBe(true);
  });
});
