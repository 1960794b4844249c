/** An awsJson error the SSM emulator answers with: `{"__type": code, "Message": message}`. */
export interface SsmFault {
  readonly fault: true
  readonly status: number
  readonly code: string
  readonly message: string
}

export function ssmFault(code: string, message: string, status = 400): SsmFault {
  return { fault: true, status, code, message }
}

export function isSsmFault(value: unknown): value is SsmFault {
  return typeof value === 'object' && value !== null && 'fault' in value && value.fault === true
}
