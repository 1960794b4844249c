import assert from 'node:assert/strict'
import { AirlockError } from '../../src/errors.js'

/** Awaits a call that must fail with an AirlockError; returns its code, how long it took and the error. */
export async function timedFailure(promise: Promise<unknown>): Promise<{ code: string; ms: number; error: AirlockError }> {
  const started = performance.now()
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof AirlockError, String(error))
    return { code: error.code, ms: performance.now() - started, error }
  }
  assert.fail('expected the call to fail')
}
