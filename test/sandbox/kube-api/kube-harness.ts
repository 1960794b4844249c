import { request } from 'node:https'
import { createManualClock, type ManualClock } from '../../../src/clock.js'
import { createEksTokenSource } from '../../../src/aws/eks-token.js'
import { createCredentialStore, type CredentialStore, type SandboxCredential } from '../../../src/sandbox/sigv4/credential-store.js'
import { startKubeApiServer, type KubeApiServer } from '../../../src/sandbox/kube-api/kube-api-server.js'
import type { KubeIdentityMapping } from '../../../src/sandbox/kube-api/kube-authorizer.js'

export const ACCOUNT = '111122223333'
export const GATEWAY_ROLE = `arn:aws:iam::${ACCOUNT}:role/airlock-gateway`
export const GATEWAY: SandboxCredential = {
  accessKeyId: 'AKIAGATEWAYEXAMPLE01',
  secretAccessKey: 'gateway/secret/key/for/tests/only/0123456',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/airlock-gateway/airlock`,
}
export const STRANGER: SandboxCredential = {
  accessKeyId: 'AKIASTRANGEREXAMPLE1',
  secretAccessKey: 'stranger/secret/key/for/tests/only/65432',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/stranger`,
}
/** Reads everything in shop and monitoring; may scale, restart and delete pods in shop only. */
export const GATEWAY_MAPPING: KubeIdentityMapping = {
  roleArn: GATEWAY_ROLE,
  username: 'airlock-gateway',
  groups: ['airlock:readers'],
  rules: [
    { verbs: ['get', 'list'], resources: ['*'], namespaces: ['shop', 'monitoring'] },
    { verbs: ['get', 'list'], resources: ['pods', 'pods/log', 'namespaces', 'nodes', 'events'], namespaces: ['*'] },
    { verbs: ['patch', 'update', 'get'], resources: ['deployments', 'deployments/scale'], namespaces: ['shop'] },
    { verbs: ['delete'], resources: ['pods'], namespaces: ['shop'] },
  ],
}
export const START = Date.UTC(2026, 10, 29, 8, 0, 0)

export interface KubeHarness {
  readonly clock: ManualClock
  readonly store: CredentialStore
  readonly server: KubeApiServer
  token(credential?: SandboxCredential, cluster?: string, clock?: ManualClock): Promise<string>
  get(path: string, token: string, init?: { method?: string; body?: unknown; contentType?: string }): Promise<{ status: number; body: string; contentType: string }>
}

export async function startKubeHarness(mappings: readonly KubeIdentityMapping[] = [GATEWAY_MAPPING]): Promise<KubeHarness> {
  const clock = createManualClock(START)
  const store = createCredentialStore([GATEWAY, STRANGER])
  const server = await startKubeApiServer({ store, clock, clusterName: 'demo', region: 'us-east-1', mappings })
  return {
    clock, store, server,
    async token(credential = GATEWAY, cluster = 'demo', tokenClock = clock) {
      const source = createEksTokenSource({
        credentials: async () => ({ accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, ...(credential.sessionToken === undefined ? {} : { sessionToken: credential.sessionToken }) }),
        region: 'us-east-1',
        clock: tokenClock,
      })
      return (await source.token(cluster)).token
    },
    get(path, token, init = {}) {
      return new Promise((resolve, reject) => {
        const payload = init.body === undefined ? undefined : JSON.stringify(init.body)
        const req = request(`${server.url}${path}`, {
          method: init.method ?? 'GET',
          ca: server.caPem,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload === undefined ? {} : { 'content-type': init.contentType ?? 'application/merge-patch+json' }),
          },
        }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') }))
        })
        req.on('error', reject)
        req.end(payload)
      })
    },
  }
}
