import { z } from 'zod'

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as "eu-west-1"')
const arn = (service: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:`), `expected an ${service} ARN`)
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN')

const common = {
  description: z.string().max(500).optional(),
  region,
  /** A role the gateway assumes (as itself, tagged with the agent's identity) for this connection. */
  roleArn: roleArn.optional(),
}

export const rdsDataConnectionSchema = z.strictObject({
  kind: z.literal('rds-data'),
  ...common,
  resourceArn: arn('rds'),
  secretArn: arn('secretsmanager'),
  /** A database user that can only read; used for read-only grants when present (strongest layer). */
  readOnlySecretArn: arn('secretsmanager').optional(),
  database: z.string().min(1).max(128),
  engine: z.enum(['postgres', 'mysql']),
})

const instanceId = z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'expected an instance id such as "i-0abc12345678def01"')

export const ssmConnectionSchema = z
  .strictObject({
    kind: z.literal('ssm'),
    ...common,
    instanceIds: z.array(instanceId).max(50).optional(),
    /** Tag targets resolved through SSM, e.g. {"tag:role": ["web"]}. */
    targets: z
      .record(z.string().regex(/^tag:[\w.:/=+@ -]{1,128}$/, 'expected "tag:<key>"'), z.array(z.string().min(1)).min(1))
      .optional(),
  })
  .refine((c) => (c.instanceIds?.length ?? 0) > 0 || Object.keys(c.targets ?? {}).length > 0, {
    message: 'an ssm connection needs instanceIds or targets',
  })

export const eksConnectionSchema = z.strictObject({
  kind: z.literal('eks'),
  ...common,
  cluster: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'expected an EKS cluster name'),
})

export const connectionSchema = z.discriminatedUnion('kind', [
  rdsDataConnectionSchema,
  ssmConnectionSchema,
  eksConnectionSchema,
])

export type Connection = z.infer<typeof connectionSchema>
export type ConnectionKind = Connection['kind']
export type RdsDataConnection = z.infer<typeof rdsDataConnectionSchema>
export type SsmConnection = z.infer<typeof ssmConnectionSchema>
export type EksConnection = z.infer<typeof eksConnectionSchema>
/** A connection together with its id from the policy file. */
export type NamedConnection<C extends Connection = Connection> = C & { readonly id: string }
