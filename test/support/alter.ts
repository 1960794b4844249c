/**
 * Returns `text` with its last `count` characters replaced so the result always differs from the
 * input: a forged token or CSRF value built by pasting fixed characters over a random one equals
 * the original whenever the random one already ended in them (1 in 64 for one base64url character).
 */
export function alterTail(text: string, count = 1): string {
  if (count < 1 || count > text.length) throw new RangeError(`cannot alter ${count} characters of a ${text.length}-character text`)
  const tail = text.slice(-count)
  const fill = tail === 'A'.repeat(count) ? 'B' : 'A'
  return text.slice(0, -count) + fill.repeat(count)
}
