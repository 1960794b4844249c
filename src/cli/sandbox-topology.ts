import type { KubeRbacRule } from '../sandbox/kube-api/kube-authorizer.js'

const account = '111122223333'

/** The sandbox's fixed AWS world; policies/demo.json names the same ARNs. */
export const SANDBOX = {
  account,
  region: 'us-east-1',
  namespace: 'airlock',
  serviceAccount: 'airlock-gateway',
  /** The role the gateway's pod is federated to (IRSA). */
  gatewayRoleArn: `arn:aws:iam::${account}:role/airlock-gateway`,
  /** Per-connection roles the gateway assumes, tagged with the agent's identity. */
  connectionRoleArns: [`arn:aws:iam::${account}:role/airlock-orders-access`],
  ordersClusterArn: `arn:aws:rds:us-east-1:${account}:cluster:demo-orders`,
  ordersSecretArn: `arn:aws:secretsmanager:us-east-1:${account}:secret:demo-orders-rw-Ab12Cd`,
  ordersReadOnlySecretArn: `arn:aws:secretsmanager:us-east-1:${account}:secret:demo-orders-ro-Ef34Gh`,
  cluster: 'demo',
  /** What the gateway's cluster identity may do: reads everywhere it is granted, restarts in shop. */
  kubeRules: [
    { verbs: ['get', 'list', 'watch'], resources: ['*'], namespaces: ['*'] },
    { verbs: ['patch', 'update', 'delete'], resources: ['deployments', 'deployments/scale', 'pods'], namespaces: ['shop'] },
  ] satisfies KubeRbacRule[],
} as const
