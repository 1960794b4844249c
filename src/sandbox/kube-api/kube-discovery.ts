import { KUBE_RESOURCE_TYPES, apiVersionOf } from './kube-resources.js'

/** Legacy discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`, `/version`); undefined when the path is not one. */
export function discovery(path: string, serverAddress: string): unknown {
  if (path === '/version') {
    return { major: '1', minor: '30', gitVersion: 'v1.30.4-eks-a737599', gitCommit: 'a737599', gitTreeState: 'clean', buildDate: '2024-08-26T21:27:16Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64' }
  }
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] }
  }
  const groups = [...new Set(KUBE_RESOURCE_TYPES.filter((t) => t.group !== '').map((t) => `${t.group}/${t.version}`))]
  if (path === '/apis') {
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name = '', version = ''] = gv.split('/')
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } }
      }),
    }
  }
  const groupVersion = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : undefined
  if (groupVersion === undefined || (groupVersion !== 'v1' && !groups.includes(groupVersion))) return undefined
  const resources = KUBE_RESOURCE_TYPES.filter((t) => apiVersionOf(t) === groupVersion).flatMap((t) => [
    { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: t.verbs, ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}) },
    ...t.subresources.map((sub) =>
      sub === 'log'
        ? { name: `${t.resource}/log`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get'] }
        : { name: `${t.resource}/${sub}`, singularName: '', namespaced: t.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }),
  ])
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources }
}
