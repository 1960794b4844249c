import type { Clock } from '../clock.js'
import { activationRetentionMs, decideActivation, type Activation, type ActivationKey, type ActivationStore } from './activation-store.js'
import { identityTag } from './identity-tag.js'

interface Kept {
  readonly activation: Activation
  /** Epoch ms after which the record may be dropped (see ActivationRequest.maxSignInAgeMs). */
  readonly keepUntil: number
}

/** Writes between two sweeps of records past their retention. */
const SWEEP_EVERY = 1024

function keyOf(key: ActivationKey): string {
  return `${identityTag(key.issuer, key.subject)}:${key.grantId}`
}

/** Activations in this process's memory: for a single gateway (and the sandbox). */
export function createMemoryActivationStore(clock: Clock): ActivationStore {
  const records = new Map<string, Kept>()
  let writes = 0

  function sweep(now: number): void {
    for (const [key, kept] of records) if (kept.keepUntil <= now) records.delete(key)
  }

  function live(key: string, now: number): Activation | undefined {
    const kept = records.get(key)
    return kept === undefined || kept.keepUntil <= now ? undefined : kept.activation
  }

  return {
    async activate(request) {
      const key = keyOf(request.key)
      const answer = decideActivation(live(key, request.now), request)
      if (answer.outcome === 'started') {
        const keepUntil = request.now + activationRetentionMs(answer.activation.expiresAt, request.now, request.maxSignInAgeMs)
        records.set(key, { activation: answer.activation, keepUntil })
        if (++writes % SWEEP_EVERY === 0) sweep(request.now)
      }
      return answer
    },
    async markRecorded(key, activatedAt) {
      const id = keyOf(key)
      const kept = records.get(id)
      if (kept !== undefined && kept.activation.activatedAt === activatedAt) records.set(id, { ...kept, activation: { ...kept.activation, recorded: true } })
    },
    async find(keys) {
      const now = clock.now()
      return keys.map((key) => live(keyOf(key), now))
    },
  }
}
