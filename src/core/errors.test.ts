import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, UserError, isUserError } from './errors.js';

class RoomError extends UserError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

test('a UserError subclass is branded and named after its class', () => {
  const e = new RoomError('a.tsv', 'no such column "x"; fix: rename it');
  assert.equal(e.name, 'RoomError');
  assert.equal(e.userFacing, true);
  assert.equal(e.message, 'a.tsv: no such column "x"; fix: rename it');
  assert.ok(isUserError(e));
  assert.equal(new UsageError('--trials must be >= 1').name, 'UsageError');
  assert.ok(isUserError(new UsageError('x')));
});

test('isUserError: the brand on an Error counts, anything else does not', () => {
  assert.equal(isUserError(new Error('bug')), false);
  assert.equal(isUserError(new TypeError('bug')), false);
  // An error rebuilt on the other side of a process boundary carries only the brand.
  assert.equal(isUserError(Object.assign(new Error('from a worker'), { userFacing: true })), true);
  assert.equal(isUserError(Object.assign(new Error('x'), { userFacing: 'yes' })), false);
  assert.equal(isUserError({ message: 'not an Error', userFacing: true }), false);
  assert.equal(isUserError(undefined), false);
});
