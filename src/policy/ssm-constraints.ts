import { z } from 'zod'
import { parseCommandTemplate, parseTemplateWord, type CommandTemplate } from './command-template.js'

/**
 * Limits a grant puts on `ssm_run`. Each command is an argv template: literal words and typed
 * placeholders (`{word}`, `{int}`, `{path:/var/log/**}`, alternatives). Template syntax is
 * checked by the command-template parser when the policy loads.
 */
const commandTemplateSchema = z
  .array(z.string().min(1).max(256))
  .min(1)
  .max(32)
  .superRefine((words, ctx) => {
    // Report each bad word at its own path (grants[i].ssm.commands[j][k]), then whole-template rules.
    let wordsOk = true
    words.forEach((word, k) => {
      try {
        parseTemplateWord(word)
      } catch (error) {
        wordsOk = false
        ctx.addIssue({ code: 'custom', path: [k], message: error instanceof Error ? error.message : 'invalid template word' })
      }
    })
    if (!wordsOk) return
    try {
      parseCommandTemplate(words)
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: [0], message: error instanceof Error ? error.message : 'invalid template' })
    }
  })

export const ssmConstraintsSchema = z.strictObject({
  commands: z.array(commandTemplateSchema).min(1).max(200),
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
  maxOutputBytes: z.number().int().min(256).max(1_048_576).default(24_000),
})
export type SsmConstraints = z.infer<typeof ssmConstraintsSchema>

/** An `ssm` block as the gateway enforces it: its command templates parsed once, when the policy is built. */
export interface ResolvedSsmConstraints extends SsmConstraints {
  /** `commands[i]` parsed; same order, so an index names the template in both. */
  readonly templates: readonly CommandTemplate[]
}

/**
 * Parses an `ssm` block's command templates (the schema has already checked them).
 * @throws ConfigError POLICY_INVALID when a template does not parse.
 */
export function resolveSsmConstraints(constraints: SsmConstraints): ResolvedSsmConstraints {
  return { ...constraints, templates: constraints.commands.map((words) => parseCommandTemplate(words)) }
}
