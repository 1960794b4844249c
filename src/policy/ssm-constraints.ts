import { z } from 'zod'

/**
 * Limits a grant puts on `ssm_run`. Each command is an argv template: literal words and typed
 * placeholders (`{word}`, `{int}`, `{path:/var/log/**}`, alternatives). Template syntax is
 * checked by the command-template parser when the policy loads.
 */
export const ssmConstraintsSchema = z.strictObject({
  commands: z.array(z.array(z.string().min(1).max(256)).min(1).max(32)).min(1).max(200),
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
  maxOutputBytes: z.number().int().min(256).max(1_048_576).default(24_000),
})
export type SsmConstraints = z.infer<typeof ssmConstraintsSchema>
