import { GuardError } from '../../errors.js'
import { checkTemplateArgument } from '../../policy/command-template.js'
import type { CommandTemplate } from '../../policy/command-template.js'

/** A template as the policy's author wrote it: its words, space-separated, in backquotes. */
function asWritten(template: CommandTemplate): string {
  return `\`${template.source.join(' ')}\``
}

/**
 * Finds the first template the argv fits exactly: same number of words, literals equal,
 * placeholders valid.
 * @throws GuardError COMMAND_NOT_ALLOWED when none fits. The message quotes the closest template
 * as the policy wrote it: among those for the same program, the one whose words match longest
 * (same length first), with the first word of the command that differs (counted from 1).
 */
export function matchTemplate(argv: readonly string[], templates: readonly CommandTemplate[]): number {
  let closest: { template: CommandTemplate; matched: number; sameLength: boolean; reason: string } | undefined
  for (const [index, template] of templates.entries()) {
    let matched = 0
    let reason: string | undefined
    for (const [i, part] of template.parts.entries()) {
      const word = argv[i]
      reason = word === undefined ? `your command ends where the template continues with ${template.source[i] ?? ''}` : checkTemplateArgument(part, word)
      if (reason !== undefined) break
      matched = i + 1
    }
    const sameLength = template.parts.length === argv.length
    if (sameLength && reason === undefined) return index
    // Only templates for the same program are worth naming: a different program is simply not allowed.
    if (matched === 0) continue
    if (reason === undefined) reason = 'the template ends before this word'
    const better = closest === undefined || (sameLength && !closest.sameLength) || (sameLength === closest.sameLength && matched > closest.matched)
    if (better) closest = { template, matched, sameLength, reason }
  }
  if (closest === undefined) throw new GuardError('COMMAND_NOT_ALLOWED', `no template of your grant runs "${argv[0] ?? ''}"`)
  const at = closest.matched < argv.length ? `word ${closest.matched + 1} ("${argv[closest.matched] ?? ''}")` : `after word ${argv.length}`
  throw new GuardError('COMMAND_NOT_ALLOWED', `closest allowed command: ${asWritten(closest.template)}; ${at}: ${closest.reason}`)
}
