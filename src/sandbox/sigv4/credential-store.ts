/** Credentials an emulator accepts, with the identity AWS would attribute calls to. */
export interface SandboxCredential {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Required on requests signed with temporary (ASIA…) credentials, and must match. */
  readonly sessionToken?: string
  /** The caller as CloudTrail would name it, e.g. arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock. */
  readonly principalArn: string
  /** STS SourceIdentity carried by assumed-role sessions. */
  readonly sourceIdentity?: string
  /** Epoch ms after which requests signed with these credentials are refused. */
  readonly expiresAt?: number
}

/** Shared by every emulator's SigV4 verifier; the STS emulator adds the temporary credentials it issues. */
export interface CredentialStore {
  get(accessKeyId: string): SandboxCredential | undefined
  put(credential: SandboxCredential): void
}

export function createCredentialStore(initial: readonly SandboxCredential[] = []): CredentialStore {
  const byKey = new Map(initial.map((c) => [c.accessKeyId, c] as const))
  return {
    get: (accessKeyId) => byKey.get(accessKeyId),
    put: (credential) => {
      byKey.set(credential.accessKeyId, credential)
    },
  }
}
