/** A property of a thrown value (an SDK or Node error), read without assuming its shape. */
export function errorField(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, key) : undefined
}

/** The HTTP status AWS answered with, if an answer arrived. */
export function answeredStatus(error: unknown): number | undefined {
  const status = errorField(errorField(error, '$metadata'), 'httpStatusCode')
  return typeof status === 'number' ? status : undefined
}
