import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redactCredentialText, type CredentialDetectorName } from '../../../src/guard/masking/detect-credential-values.js'

const all = { jwts: true, privateKeys: true, namedSecrets: true }
const none = { jwts: false, privateKeys: false, namedSecrets: false }

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhZGEiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU'
const PEM = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK', '-----END RSA PRIVATE KEY-----'].join('\n')

describe('redactCredentialText', () => {
  const cases: [string, string, string, CredentialDetectorName[]][] = [
    // JWTs: signed, unsigned, encrypted, cut off, and inside larger text.
    ['a signed JWT in a log line', `user=ada token ${JWT} ok`, 'user=ada token [redacted:jwt] ok', ['jwts']],
    ['an unsigned JWT (alg none, empty signature)', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.', '[redacted:jwt]', ['jwts']],
    ['a JWE (five parts, empty key)', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXYtaXYtaXY.Y2lwaGVy.dGFn end', '[redacted:jwt] end', ['jwts']],
    ['a JWT cut where the output was capped', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJh', '[redacted:jwt]', ['jwts']],
    ['a JWT in a JSON cell', `{"id_token":"${JWT}"}`, '{"id_token":"[redacted:jwt]"}', ['jwts']],
    ['a JWT behind Authorization: Bearer', `Authorization: Bearer ${JWT}`, 'Authorization: Bearer [redacted:jwt]', ['jwts']],
    // Private keys: whole block, or to the end when cut.
    ['a PEM private key block', `key:\n${PEM}\nnext`, 'key:\n[redacted:private-key]\nnext', ['privateKeys']],
    ['an OpenSSH key cut before its END line', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', '[redacted:private-key]', ['privateKeys']],
    ['a PKCS#8 key', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----', '[redacted:private-key]', ['privateKeys']],
    // Named secrets: process command lines, environment listings, config files, URLs, headers.
    ['ps: --db-password=…', '1234 /usr/bin/app --db-password=hunter2-Xy9 --port 8080', '1234 /usr/bin/app --db-password=[redacted:secret] --port 8080', ['namedSecrets']],
    ['ps: --api-token … (separate word)', 'python worker.py --api-token 9f8e7d6c5b4a --verbose', 'python worker.py --api-token [redacted:secret] --verbose', ['namedSecrets']],
    ['env: PGPASSWORD=…', 'PGPASSWORD=s3cr3t psql -h db', 'PGPASSWORD=[redacted:secret] psql -h db', ['namedSecrets']],
    ['config: client_secret: "…"', 'client_secret: "abc123def456"', 'client_secret: "[redacted:secret]"', ['namedSecrets']],
    ['JSON: "api_key": "…"', '{"api_key": "k-123", "region": "eu"}', '{"api_key": "[redacted:secret]", "region": "eu"}', ['namedSecrets']],
    ['a URL with a password', 'DATABASE_URL=postgres://app:pa55word@db.internal:5432/orders', 'DATABASE_URL=postgres://app:[redacted:secret]@db.internal:5432/orders', ['namedSecrets']],
    ['a git remote with a token', 'git clone https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r', 'git clone https://x-access-token:[redacted:secret]@github.com/o/r', ['namedSecrets']],
    ['curl with an Authorization header', "curl -H 'Authorization: Basic YWRhOnB3' https://x", "curl -H 'Authorization: Basic [redacted:secret]' https://x", ['namedSecrets']],
    ['AWS_SECRET_ACCESS_KEY=…', 'AWS_SECRET_ACCESS_KEY=abc/def+ghi', 'AWS_SECRET_ACCESS_KEY=[redacted:secret]', ['namedSecrets']],
    // Left alone: look-alikes that are not credentials.
    ['eyJ without a dot', 'eyJhbGciOiJSUzI1NiJ9', 'eyJhbGciOiJSUzI1NiJ9', []],
    ['a word that starts like a JWT', 'theyJumped.over', 'theyJumped.over', []],
    ['a public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----', []],
    ['a setting named after a password rule', 'password_min_length=12 token_ttl: 300', 'password_min_length=12 token_ttl: 300', []],
    ['PWD in an environment listing', 'PWD=/home/ada', 'PWD=/home/ada', []],
    ['a token-file option', '--token-file /run/secrets/t', '--token-file /run/secrets/t', []],
    ['an option with no value before the next option', 'app --no-password --verbose', 'app --no-password --verbose', []],
    ['a URL without a password', 'https://ada@example.com/x and https://example.com:8443/y', 'https://ada@example.com/x and https://example.com:8443/y', []],
    ['prose about bearer tokens', 'Bearer authentication uses tokens', 'Bearer authentication uses tokens', []],
  ]
  for (const [name, input, expected, fired] of cases) {
    it(name, () => {
      const result = redactCredentialText(input, all)
      assert.equal(result.text, expected)
      assert.deepEqual(result.fired, fired)
    })
  }

  it('leaves everything when its detector is off', () => {
    const input = `${JWT} ${PEM} --password=x`
    assert.deepEqual(redactCredentialText(input, none), { text: input, fired: [] })
    assert.equal(redactCredentialText(input, { ...none, jwts: true }).text, `[redacted:jwt] ${PEM} --password=x`)
  })

  // A quadratic scan of these takes minutes; linear takes milliseconds. The timeout turns a hang into a failure.
  it('stays linear on megabyte runs of look-alike text', { timeout: 10_000 }, () => {
    const hostile = [
      'eyJ'.repeat(300_000),
      `eyJ${'a'.repeat(1_000_000)}`,
      'a_'.repeat(500_000),
      'password'.repeat(100_000),
      `password${' '.repeat(1_000_000)}x`,
      '--a'.repeat(300_000),
      'x://'.repeat(250_000),
      `x://${'a'.repeat(1_000_000)}`,
      '-----BEGIN PRIVATE KEY-----'.repeat(40_000),
      'authorization: '.repeat(60_000),
    ]
    for (const text of hostile) redactCredentialText(text, all)
  })
})
