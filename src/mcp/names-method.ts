/**
 * Whether a client's JSON-RPC message (any value from a request body) names `method`. The cheap
 * test that comes before parsing the message with that method's schema: a parse that fails builds
 * a ZodError, and nearly every request would fail the parses meant for rarer methods.
 */
export function namesMethod(message: unknown, method: string): boolean {
  return typeof message === 'object' && message !== null && Reflect.get(message, 'method') === method
}
