import { GuardError } from '../../errors.js'
import { checkTemplateArgument } from '../../policy/command-template.js'
import type { CommandTemplate } from '../../policy/command-template.js'

/**
 * Finds the first template the argv fits exactly: same number of words, literals equal,
 * placeholders valid.
 * @throws GuardError COMMAND_NOT_ALLOWED when none fits (the message names the closest mismatch).
 */
export function matchTemplate(argv: readonly string[], templates: readonly CommandTemplate[]): number {
  let closest: string | undefined
  for (const [index, template] of templates.entries()) {
    if (template.parts.length !== argv.length) continue
    let mismatch: string | undefined
    for (const [i, part] of template.parts.entries()) {
      const reason = checkTemplateArgument(part, argv[i] ?? '')
      if (reason !== undefined) {
        mismatch = `template ${index}, word ${i}: ${reason}`
        break
      }
    }
    if (mismatch === undefined) return index
    // Only report mismatches past the program name: those are the helpful ones.
    if (closest === undefined && !mismatch.includes('word 0:')) closest = mismatch
  }
  throw new GuardError('COMMAND_NOT_ALLOWED', `no allowed command matches${closest === undefined ? '' : ` (closest: ${closest})`}`)
}
