import { AirlockError } from '../../errors.js'

/** An RDS Data API `ArrayValue`: exactly one member set. */
export type ArrayValue =
  | { readonly booleanValues: readonly boolean[] }
  | { readonly longValues: readonly number[] }
  | { readonly doubleValues: readonly number[] }
  | { readonly stringValues: readonly string[] }
  | { readonly arrayValues: readonly ArrayValue[] }

/** An RDS Data API `Field` union: exactly one member set, as the service sends it. */
export type FieldValue =
  | { readonly isNull: true }
  | { readonly booleanValue: boolean }
  | { readonly longValue: number }
  | { readonly doubleValue: number }
  | { readonly stringValue: string }
  /** base64 */
  | { readonly blobValue: string }
  | { readonly arrayValue: ArrayValue }

/** The `ColumnMetadata` shape the service returns when `includeResultMetadata` is set. */
export interface ColumnMetadata {
  readonly name: string
  readonly type: number
  readonly typeName: string
  readonly label: string
  readonly schemaName: string
  readonly tableName: string
  readonly isAutoIncrement: boolean
  readonly isSigned: boolean
  readonly isCurrency: boolean
  readonly isCaseSensitive: boolean
  readonly nullable: number
  readonly precision: number
  readonly scale: number
  readonly arrayBaseColumnType: number
}

export type TypeHint = 'DATE' | 'DECIMAL' | 'JSON' | 'TIME' | 'TIMESTAMP' | 'UUID'

/** A bound parameter as the caller sent it (values are never logged or recorded). */
export interface SqlParameter {
  readonly name: string
  readonly value: FieldValue
  readonly typeHint?: TypeHint | undefined
}

export interface StatementOptions {
  readonly readOnly: boolean
  /** The service's synchronous limit; past it the call fails with StatementTimeoutException. */
  readonly timeoutMs: number
  /** When set, a statement past the limit keeps running in the database instead of being cancelled. */
  readonly continueAfterTimeout: boolean
}

/** One statement's outcome in engine-neutral form. */
export interface StatementResult {
  /** Undefined when the statement returned no result set (plain DML/DDL). */
  readonly columns: readonly ColumnMetadata[] | undefined
  readonly rows: readonly (readonly FieldValue[])[]
  readonly rowsAffected: number
  /** MySQL auto-increment ids; PostgreSQL reports none (it uses RETURNING). */
  readonly generatedFields: readonly FieldValue[]
}

/** A transaction holding one dedicated connection until commit or rollback. */
export interface BackendTransaction {
  execute(sql: string, parameters: readonly SqlParameter[], options: StatementOptions): Promise<StatementResult>
  commit(): Promise<void>
  rollback(): Promise<void>
}

/** A transaction that ends once: the first commit or rollback runs `end`, later ones do nothing. */
export function backendTransaction(
  execute: BackendTransaction['execute'],
  end: (statement: 'COMMIT' | 'ROLLBACK') => Promise<void>,
): BackendTransaction {
  let done = false
  const finish = async (statement: 'COMMIT' | 'ROLLBACK') => {
    if (done) return
    done = true
    await end(statement)
  }
  return { execute, commit: () => finish('COMMIT'), rollback: () => finish('ROLLBACK') }
}

/** The database behind one resourceArn/secretArn pair. */
export interface SqlBackend {
  readonly engine: 'postgres' | 'mysql'
  execute(sql: string, parameters: readonly SqlParameter[], options: StatementOptions): Promise<StatementResult>
  begin(options: { readonly readOnly: boolean }): Promise<BackendTransaction>
  close(): Promise<void>
}

/** Error types of the RDS Data API model, with the HTTP status the service uses for each. */
export const RDS_DATA_ERROR_STATUS = {
  AccessDeniedException: 403,
  BadRequestException: 400,
  DatabaseErrorException: 400,
  DatabaseNotFoundException: 404,
  ForbiddenException: 403,
  InternalServerErrorException: 500,
  NotFoundException: 404,
  StatementTimeoutException: 400,
  TransactionNotFoundException: 404,
  UnsupportedResultException: 400,
} as const

export type RdsDataErrorType = keyof typeof RDS_DATA_ERROR_STATUS

/** A failure the emulator returns as `x-amzn-ErrorType` + `{ message }`; `message` is what AWS would say. */
export class RdsDataError extends AirlockError<RdsDataErrorType> {
  readonly dbConnectionId: number | undefined
  constructor(code: RdsDataErrorType, message: string, options?: ErrorOptions & { dbConnectionId?: number }) {
    super(code, message, options)
    this.dbConnectionId = options?.dbConnectionId
  }
}
