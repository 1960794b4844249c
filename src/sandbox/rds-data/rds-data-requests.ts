import { z } from 'zod'
import type { ArrayValue, FieldValue, SqlParameter } from './rds-data-types.js'

const Arn = z.string().min(11).max(100)
const TransactionId = z.string().min(0).max(192)

const ArrayValueSchema: z.ZodType<ArrayValue> = z.lazy(() =>
  z.union([
    z.strictObject({ booleanValues: z.array(z.boolean()) }),
    z.strictObject({ longValues: z.array(z.number().int()) }),
    z.strictObject({ doubleValues: z.array(z.number()) }),
    z.strictObject({ stringValues: z.array(z.string()) }),
    z.strictObject({ arrayValues: z.array(ArrayValueSchema) }),
  ]),
)

/** A Field union: exactly one member, as the model requires. */
const FieldSchema: z.ZodType<FieldValue> = z.union([
  z.strictObject({ isNull: z.literal(true) }),
  z.strictObject({ booleanValue: z.boolean() }),
  z.strictObject({ longValue: z.number().int() }),
  z.strictObject({ doubleValue: z.number() }),
  z.strictObject({ stringValue: z.string() }),
  z.strictObject({ blobValue: z.base64() }),
  z.strictObject({ arrayValue: ArrayValueSchema }),
])

const ParameterSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    value: FieldSchema,
    typeHint: z.enum(['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID']).optional(),
  })
  .transform((p): SqlParameter => ({ name: p.name, value: p.value, typeHint: p.typeHint }))

const Sql = z.string().min(0).max(65536)

export const ExecuteStatementRequest = z.object({
  resourceArn: Arn,
  secretArn: Arn,
  sql: Sql,
  database: z.string().max(64).optional(),
  schema: z.string().max(64).optional(),
  parameters: z.array(ParameterSchema).optional(),
  transactionId: TransactionId.optional(),
  includeResultMetadata: z.boolean().optional(),
  continueAfterTimeout: z.boolean().optional(),
  resultSetOptions: z
    .object({
      decimalReturnType: z.enum(['STRING', 'DOUBLE_OR_LONG']).optional(),
      longReturnType: z.enum(['STRING', 'LONG']).optional(),
    })
    .optional(),
  formatRecordsAs: z.enum(['NONE', 'JSON']).optional(),
})
export type ExecuteStatementRequest = z.infer<typeof ExecuteStatementRequest>

export const BatchExecuteStatementRequest = z.object({
  resourceArn: Arn,
  secretArn: Arn,
  sql: Sql,
  database: z.string().max(64).optional(),
  schema: z.string().max(64).optional(),
  parameterSets: z.array(z.array(ParameterSchema)).optional(),
  transactionId: TransactionId.optional(),
})
export type BatchExecuteStatementRequest = z.infer<typeof BatchExecuteStatementRequest>

export const BeginTransactionRequest = z.object({
  resourceArn: Arn,
  secretArn: Arn,
  database: z.string().max(64).optional(),
  schema: z.string().max(64).optional(),
})

export const EndTransactionRequest = z.object({ resourceArn: Arn, secretArn: Arn, transactionId: TransactionId })

/** A validation message naming the fields at fault, never their values. */
export function describeIssues(error: z.ZodError): string {
  const paths = [...new Set(error.issues.map((i) => i.path.join('.') || '(body)'))]
  return `${paths.length} validation error${paths.length === 1 ? '' : 's'} detected: invalid value at ${paths.map((p) => `'${p}'`).join(', ')}`
}
