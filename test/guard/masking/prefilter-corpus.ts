// Strings for the prefilter's differential test: every literal of the masking tests, near misses
// per pattern, and seeded pseudo-random strings built from pieces of the patterns.
import { readFileSync } from 'node:fs'
import ts from 'typescript'

/** Test files whose string literals are detector fixtures (inputs, expected outputs, look-alikes). */
const FIXTURE_FILES = [
  'test/guard/masking/detect-credential-values.test.ts',
  'test/guard/masking/detect-sensitive-values.test.ts',
  'test/guard/masking/masking-rules.test.ts',
  'test/guard/masking/create-result-masker.test.ts',
  'test/guard/masking/redact-tool-output.test.ts',
  'test/tools/sql-query.test.ts',
  'test/mcp/call-tool-output.test.ts',
  'test/e2e/output-detectors.test.ts',
  'test/e2e/sandbox-incident.test.ts',
]

/** Every string literal (and each literal part of a template) in the fixture files. */
export function fixtureStrings(): string[] {
  const found: string[] = []
  for (const file of FIXTURE_FILES) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push(node.text)
      else if (ts.isTemplateExpression(node)) found.push(node.head.text, ...node.templateSpans.map((span) => span.literal.text))
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY'
const RUN_40 = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

/** Hand-made near misses and hits per pattern: case, position, unicode neighbours, length. */
export function nearMisses(): string[] {
  const out = [
    // JWT: case-sensitive `eyJ`, a cut token, glued to a word, no dot.
    JWT, JWT.toUpperCase(), `EYJ${JWT.slice(3)}`, `x${JWT}`, `${JWT}é`, `é${JWT}`, 'eyJhbGciOiJIUzI1NiJ9', 'eyJhbGciOiJ.', 'eyJ.eyJ.', `${JWT.slice(0, 13)}.`, `eyJ${'a'.repeat(5000)}.b`,
    // PRIVATE_KEY: case, spacing, cut off, public keys.
    '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----', '-----begin private key-----\nabc', '-----BEGIN  PRIVATE KEY-----', '----BEGIN PRIVATE KEY-----', '-----BEGIN EC PRIVATE KEY-----', '-----BEGIN PGP PRIVATE KEY BLOCK-----\nx', 'x-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----',
    // ASSIGNED_SECRET and SECRET_OPTION: every secret word in mixed case, quotes, spacing, unicode around.
    'PassWord=x', 'PASSWD: y', 'passPHRASE="z"', 'Client_Secret: "q"', 'TOKEN=t', 'Api-Key=k', 'API_KEY: k', 'apiKEY=k', 'Access-Key=k', 'PRIVATE_KEY=k', 'Credential: c', 'CREDENTIALS=c',
    '--PASSWORD hunter2', '--db-Token  v', '--secret -x', '--token\tv', 'a--password v', 'ßpassword=x', 'éToken: y', 'password\u00a0=x', 'password =\u00a0x', 'pass word=x', 'passwor=x', 'pwd=x', 'PWD=/x',
    'password=', 'password:', 'x password=y', 'password=y x', '"password" : "y"', "token='y'", 'tokens=x', 'mytoken=x', 'token_ttl: 300',
    // URL_PASSWORD: scheme case, no password, unicode host, trailing @.
    'HTTPS://u:p@h', 'postgres://app:pw@db', 'x://u:p@', '://u:p@h', 'a://u@h', 'a://u:p/h@x', 'ftp://ü:p@h', 'a+b.c-d://u:p@h', '1a://u:p@h',
    // AUTH_CREDENTIAL: case, proxy-, spacing, quotes.
    'Authorization: Bearer abc', 'AUTHORIZATION: BASIC abc', 'proxy-authorization: Digest x', 'authorization=Bearer x', "'Authorization': 'Bearer x'", 'authorization: Bearer', 'authorization:Bearer  x', 'Authorisation: Bearer x', 'xauthorization: Bearer y',
    // ACCESS_KEY_ID: every prefix, lower case, one short, glued, at start/end.
    'AKIAIOSFODNN7EXAMPLE', 'akiaiosfodnn7example', 'AKIAIOSFODNN7EXAMPL', 'xAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLEx', 'ASIAIOSFODNN7EXAMPLE.', '(ACCAIOSFODNN7EXAMPLE)', 'ANVAIOSFODNN7EXAMPLEé', 'ÀAKIAIOSFODNN7EXAMPLE',
    // NAMED_SECRET and SECRET_SHAPE: case, 39/40/41 long, `=` next to it, whitespace kinds (including newline).
    `aws_secret_access_key=${RUN_40}`, `AWS_SECRET_ACCESS_KEY = "${RUN_40}"`, `SecretKey:\n${RUN_40}`, `secret_key=\u2003${RUN_40}`, `secret_key=${RUN_40}=`, `secret_key=${RUN_40.slice(1)}`, `secretkey: ${RUN_40}x`,
    // A value with `=` inside has no run of 40 for SECRET_SHAPE's class: only `secret` opens the gate.
    `SecretKey=${'Ab1/Cd2+Ef3='.repeat(4).slice(0, 40)}`, `aws_secret_key: ${'Ab1/Cd2+Ef3='.repeat(4).slice(0, 40)} x`, `secretkey=${'Ab1/Cd2+Ef3='.repeat(4).slice(0, 39)}`,
    RUN_40, RUN_40.slice(1), `${RUN_40}A`, `=${RUN_40}`, `${RUN_40}=`, `é${RUN_40}é`, RUN_40.toLowerCase(), 'a'.repeat(40), '0123456789abcdef'.repeat(3), `${'Ab1/'.repeat(10)}`, `${'Ab1+'.repeat(9)}Ab1`,
    // EMAIL: case, unicode, boundaries, no TLD.
    'ADA@EXAMPLE.COM', 'ada@example', 'ada@exämple.com', 'é@example.com', 'ada@example.c', '@', 'a@b.cd', 'x.@y.zz', `${'a'.repeat(3000)}@b.cd`,
    // CARD: groupings, lengths 12–20, Luhn pass and fail, digits around, unicode digits.
    '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '4111  1111 1111 1111', '411111111111', '4111111111111', '41111111111111111111', '4111111111111112', '4222222222222', '4222 2222 22222', 'x4222222222222', '4222222222223', 'x4111111111111111x', '14111111111111111', '٤١١١١١١١١١١١١١١١', '4111 1111 1111 1111 ',
    // Empty, whitespace, separators alone.
    '', ' ', '\n', '\u0000', '🔑password=🔑', 'password=🔑',
  ]
  return out
}

/** mulberry32: a small deterministic PRNG, so a failure reproduces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const FRAGMENTS = [
  'eyJ', 'eyJhbGciOiJIUzI1NiJ9', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.', 'EYJ', '.', '..', '-----BEGIN ', '-----END ', 'RSA ', 'OPENSSH ', 'PRIVATE KEY', 'PUBLIC KEY', '-----', ' BLOCK',
  'password', 'PassWord', 'passwd', 'passphrase', 'secret', 'SECRET', 'Secret', 'token', 'TOKEN', 'api', 'api_key', 'Api-Key', 'apikey', 'access', 'access_key', 'private-key', 'credential', 'Credentials', 'pwd',
  'authorization', 'Authorization', 'PROXY-', 'Bearer ', 'Basic ', 'aws', 'AWS_', '_', 'key', 'KEY',
  ':', '=', '"', "'", ' ', '  ', '\t', '\n', '\r\n', ',', ';', '&', '--', '-', '/', '+', '://', 'https', 'postgres', 'x-access-token', '@', 'ada', 'example.com', '.io', 'db', '[redacted:secret]',
  'AKIA', 'ASIA', 'ACCA', 'akia', 'IOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '4111', '1111', '4111 1111 1111 1111', '378282246310005', '0', '9',
  // Whole or nearly whole matches, for the random mixing to cut, glue and surround.
  '-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', '-----END PRIVATE KEY-----', '-----BEGIN OPENSSH PRIVATE KEY-----', 'AKIAIOSFODNN7EXAMPLE', 'ASIAY34FZKBOKMUTVV7A', 'AKIAIOSFODNN7EXAMPL',
  'ada@example.com', '@example.com', 'a.b+c@sub.example.io', '@b.cd', 'https://app:pw@db.example.com', 'Authorization: Bearer ', '--db-password=',
  'é', 'ß', 'ſ', 'K', 'İ', 'ı', '\u00a0', '\u2028', '🔑', '٤', '\u0000',
]
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+'

/** `count` strings of 1–12 pieces: pattern fragments, runs of 1–60 key characters, digit groups. */
export function randomStrings(count: number, seed: number): string[] {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const run = (chars: string, min: number, max: number) => Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () => pick([...chars])).join('')
  return Array.from({ length: count }, () => {
    const pieces = 1 + Math.floor(random() * 12)
    let text = ''
    for (let i = 0; i < pieces; i++) {
      const kind = random()
      if (kind < 0.7) text += pick(FRAGMENTS)
      else if (kind < 0.85) text += run(ALNUM, 1, 60)
      else if (kind < 0.92) text += run('0123456789', 1, 8) + pick(['', ' ', '-', '  '])
      else if (kind < 0.95) text += run(`${ALNUM}=`, 30, 45)
      else text += run(ALNUM, 38, 42)
    }
    return text
  })
}
