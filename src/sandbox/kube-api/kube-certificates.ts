import { webcrypto } from 'node:crypto'
import './reflect-metadata-shim.js'
import * as x509 from '@peculiar/x509'
import type { Clock } from '../../clock.js'

/** A fresh CA and a server certificate it signed, valid for 127.0.0.1 and localhost. */
export interface KubeCertificates {
  /** PEM of the CA certificate: what DescribeCluster returns (base64) as certificateAuthority.data. */
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

/** Generates a throwaway cluster CA and API server certificate (ECDSA P-256), like a new control plane. */
export async function createKubeCertificates(clock: Clock, clusterName: string): Promise<KubeCertificates> {
  const crypto = webcrypto
  const now = clock.now()
  const notBefore = new Date(now - DAY_MS)
  const notAfter = new Date(now + 365 * DAY_MS)

  const caKeys = await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${clusterName}-ca`,
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  )

  const serverKeys = await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])
  const server = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=kube-apiserver',
      issuer: ca.subject,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
          { type: 'dns', value: 'kubernetes.default.svc' },
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  )

  const pkcs8 = await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey)
  return {
    caPem: ca.toString('pem'),
    certPem: server.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  }
}
