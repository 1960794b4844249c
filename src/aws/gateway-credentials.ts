import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { UpstreamError } from '../errors.js'

export type GatewayEnv = Readonly<Record<string, string | undefined>>

/**
 * HTTP bounds for the gateway's STS calls (web identity, AssumeRole): without them a hung STS
 * holds every call that needs credentials for node-http-handler's 15-minute socket default.
 */
export const STS_REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true, socketTimeout: 5_000 } as const

/**
 * The gateway's own AWS identity: the SDK default chain (IRSA web identity on EKS, then the
 * usual sources), with the IRSA settings, STS endpoint and region taken from `env`; static keys,
 * profiles and container credentials are read by the SDK itself from the process environment. Failures become one clear,
 * secret-free UpstreamError; the SDK error stays in `cause` for logs.
 * @throws UpstreamError AWS_CREDENTIALS when no credentials can be obtained.
 */
export function gatewayCredentials(env: GatewayEnv): AwsCredentialIdentityProvider {
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION']
  const stsEndpoint = env['AWS_ENDPOINT_URL_STS'] ?? env['AWS_ENDPOINT_URL']
  const roleArn = env['AWS_ROLE_ARN']
  const tokenFile = env['AWS_WEB_IDENTITY_TOKEN_FILE']
  const sessionName = env['AWS_ROLE_SESSION_NAME']
  const chain = fromNodeProviderChain({
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(tokenFile === undefined ? {} : { webIdentityTokenFile: tokenFile }),
    ...(sessionName === undefined ? {} : { roleSessionName: sessionName }),
    clientConfig: {
      requestHandler: STS_REQUEST_HANDLER,
      ...(region === undefined ? {} : { region }),
      ...(stsEndpoint === undefined ? {} : { endpoint: stsEndpoint }),
    },
  })
  return async function gatewayCredentialProvider(props) {
    try {
      return await chain(props)
    } catch (error) {
      throw new UpstreamError('AWS_CREDENTIALS', describeChainFailure(error, roleArn, tokenFile !== undefined), { cause: error })
    }
  }
}

function describeChainFailure(error: unknown, roleArn: string | undefined, webIdentity: boolean): string {
  const name = error instanceof Error ? error.name : ''
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  const role = roleArn ?? 'the configured role'
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken') {
    return webIdentity
      ? `the web identity token in AWS_WEB_IDENTITY_TOKEN_FILE has expired (is the projected service-account token being refreshed?); cannot assume ${role}`
      : 'the AWS session credentials have expired'
  }
  if (name === 'InvalidIdentityTokenException' || name === 'InvalidIdentityToken' || name === 'IDPRejectedClaimException') {
    return `STS rejected the web identity token for ${role} (issuer not registered as an IAM OIDC provider, wrong audience or bad signature)`
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return `STS refused to let this identity assume ${role}: check the role's trust policy (OIDC provider, aud = sts.amazonaws.com, sub = the service account)`
  }
  if (code === 'ENOENT' || code === 'EACCES') return 'cannot read the web identity token file named by AWS_WEB_IDENTITY_TOKEN_FILE'
  if (name === 'CredentialsProviderError') {
    return 'no AWS credentials found in the default chain; on EKS use IRSA (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE)'
  }
  return `could not obtain AWS credentials from the default chain (${name || 'unknown error'})`
}
