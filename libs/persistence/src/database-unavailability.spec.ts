import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailableError } from './database-unavailability';

function errorWithCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnavailableError', () => {
  it.each([
    ['a refused connection', errorWithCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    [
      'refusals gathered from every address of a host',
      new AggregateError([errorWithCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    ],
    ['a reset connection', errorWithCode('read ECONNRESET', 'ECONNRESET')],
    ['the pool waiting past connectionTimeoutMillis', new Error('timeout exceeded when trying to connect')],
    ['a connection that died mid-query', new Error('Connection terminated unexpectedly')],
    ['a connect past its timeout', new Error('Connection terminated due to connection timeout')],
    ['no answer within query_timeout', new Error('Query read timeout')],
    ['57P01 admin shutdown', errorWithCode('terminating connection due to administrator command', '57P01')],
    ['57P03 cannot connect now', errorWithCode('the database system is starting up', '57P03')],
    ['53300 too many connections', errorWithCode('sorry, too many clients already', '53300')],
    ['57014 statement timeout', errorWithCode('canceling statement due to statement timeout', '57014')],
    ['08006 connection failure', errorWithCode('connection failure', '08006')],
    [
      'a driver error wrapped by TypeORM',
      new QueryFailedError('SELECT 1', [], errorWithCode('the database system is shutting down', '57P03')),
    ],
    [
      'an error chained as a cause',
      new Error('lookup failed', { cause: errorWithCode('x', 'ECONNREFUSED') }),
    ],
  ])('recognises %s', (_, error) => {
    expect(isDatabaseUnavailableError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', errorWithCode('duplicate key value violates unique constraint', '23505')],
    [
      'a syntax error',
      new QueryFailedError('SELEC 1', [], errorWithCode('syntax error at or near', '42601')),
    ],
    ['a check violation', errorWithCode('violates check constraint', '23514')],
    ['an unrelated error', new Error('something else')],
    ['a value that is not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_, error) => {
    expect(isDatabaseUnavailableError(error)).toBe(false);
  });

  it('stops at a cycle of causes', () => {
    const first = new Error('first') as Error & { cause?: unknown };
    const second = new Error('second', { cause: first });
    first.cause = second;
    expect(isDatabaseUnavailableError(first)).toBe(false);
  });
});
