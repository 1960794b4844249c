import type { Clock } from '../clock.js'
import { createRecordSampler, type Admission, type RecordSampler } from './record-sampler.js'

/** Samples refused tokens by client address; see createRecordSampler for the counting contract. */
export interface AuthFailureSampler {
  admit(client: string): Admission<string>
  drain: RecordSampler<string>['drain']
}

/**
 * Bounds audit writes caused by unauthenticated traffic: one record per client address per
 * window, carrying how many failures it stands for; counts left when a flood stops come back
 * through `admit(...).due` or `drain`, never silently dropped.
 */
export function createAuthFailureSampler(options: { readonly clock: Clock; readonly windowMs: number; readonly maxClients: number }): AuthFailureSampler {
  const sampler = createRecordSampler<string>({ clock: options.clock, windowMs: options.windowMs, maxKeys: options.maxClients })
  return { admit: (client) => sampler.admit(client, client), drain: (scope) => sampler.drain(scope) }
}
