// npm run bench:ssm: ssm_run through the gateway vs SendCommand + a tight GetCommandInvocation loop,
// how long after the invocation ended each one noticed, and the guard's tokenize + match cost.
import { setTimeout as sleep } from 'node:timers/promises'
import { GetCommandInvocationCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { createAwsClients } from '../src/cli/create-aws-clients.js'
import { systemClock } from '../src/clock.js'
import { matchTemplate } from '../src/guard/shell/match-template.js'
import { quoteArgv } from '../src/guard/shell/quote-argv.js'
import { tokenizeCommand } from '../src/guard/shell/tokenize-command.js'
import { parseCommandTemplate } from '../src/policy/command-template.js'
import { createCredentialStore } from '../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator } from '../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../src/sandbox/trail.js'
import { TEST_TEMPLATES } from '../test/guard/shell/escape-fixtures.js'
import { startBenchGateway, withGatewayCpu } from './lib/bench-gateway.js'
import { benchSettings } from './lib/bench-settings.js'
import { connectMcp, interleave, percentile, type Call, type LoadResult } from './lib/load.js'
import { printComparison } from './lib/print-comparison.js'
import { timePerCall } from './lib/time-per-call.js'

// The SDK's notice about future Node versions is noise in benchmark output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const settings = benchSettings({ levels: '1,4' })
const DELIVERY_MS = Number(process.env.BENCH_SSM_DELIVERY_MS ?? 50)
const TIGHT_POLL_MS = Number(process.env.BENCH_SSM_POLL_MS ?? 5)
const REGION = 'eu-west-1'
const KEY = { accessKeyId: 'AKIAIOSFODNN7BENCHSSM', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHSSMKEY' }
const GATEWAY = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const COMMANDS = (process.env.BENCH_SSM_COMMANDS ?? 'uptime,sleep 1').split(',')

console.log('\ntokenizeCommand + matchTemplate + quoteArgv (as ssm_run does it: templates parsed per call), µs per call: median of 20 batches (quietest)')
for (const command of ['uptime', 'systemctl status nginx.service', 'journalctl -u nginx -n 200', 'tail -n 50 /var/log/nginx/error.log']) {
  const { medianMicros, bestMicros } = await timePerCall(async () => {
    const argv = await tokenizeCommand(command)
    matchTemplate(argv, TEST_TEMPLATES.map((words) => parseCommandTemplate(words)))
    return quoteArgv(argv)
  })
  console.log(`${command.padEnd(40)} ${medianMicros.toFixed(1).padStart(8)} (${bestMicros.toFixed(1)})`)
}

const maxWorkers = Math.max(...settings.levels)
// One instance per worker, so each worker's latest invocation is unambiguous.
const instanceIds = Array.from({ length: maxWorkers }, (_, w) => `i-0be${(w + 1).toString(16).padStart(14, '0')}`)
const trail = createTrail(systemClock)
const emulator = await startSsmEmulator({
  store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
  trail,
  clock: systemClock,
  instances: instanceIds.map((instanceId, w) => ({ instanceId, name: `bench-${w}`, tags: { role: 'bench' } })),
  deliveryDelayMs: DELIVERY_MS,
})
const gateway = await startBenchGateway({
  policy: {
    version: 1,
    connections: { 'bench-fleet': { kind: 'ssm', region: REGION, instanceIds } },
    grants: [{ id: 'bench-ssm', groups: ['bench'], connections: ['bench-fleet'], tools: ['ssm_run'], ttl: '12h', ssm: { commands: [['uptime'], ['sleep', '{int:1-5}']], timeoutSeconds: 30 } }],
  },
  awsEndpoints: { ssm: emulator.endpoint },
  awsKey: KEY,
  durability: settings.durability,
})
const principal = { issuer: 'bench', subject: 'bench', groups: [], expiresAt: 4_000_000_000 }
const ssm: SSMClient = createAwsClients({ credentials: async () => KEY, endpoints: { ssm: emulator.endpoint } }).ssm({ region: REGION, roleArn: undefined, principal })

/** When each call returned, to compare with when its invocation ended. */
interface Finished {
  readonly commandId: string
  readonly instanceId: string
  readonly returnedAt: number
}

async function directCall(instanceId: string, argv: readonly string[], done: Finished[]): Promise<boolean> {
  const sent = await ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      TimeoutSeconds: 30,
      Parameters: { commands: [quoteArgv(argv)], executionTimeout: ['30'] },
    }),
  )
  const commandId = sent.Command?.CommandId ?? ''
  for (;;) {
    await sleep(TIGHT_POLL_MS)
    const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })).catch((error: unknown) => {
      if (error instanceof Error && error.name === 'InvocationDoesNotExist') return undefined
      throw error
    })
    if (out !== undefined && ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(out.Status ?? '')) {
      done.push({ commandId, instanceId, returnedAt: systemClock.now() })
      return out.Status === 'Success'
    }
  }
}

function latestCommand(instanceId: string): string {
  const exec = emulator.executions().findLast((e) => e.instanceId === instanceId)
  return exec?.commandId ?? ''
}

/** How long after each invocation ended the caller had its result, and the gateway's poll that saw it. */
async function lags(done: readonly Finished[], polls: boolean): Promise<{ returned: number[]; polled: number[]; interval: number[] }> {
  const entries = trail.entries()
  const returned: number[] = []
  const polled: number[] = []
  const interval: number[] = []
  for (const call of done) {
    const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: call.commandId, InstanceId: call.instanceId }))
    const endedAt = Date.parse(out.ExecutionEndDateTime ?? '')
    returned.push(call.returnedAt - endedAt)
    if (!polls) continue
    const mine = entries.filter((e) => e.detail?.['commandId'] === call.commandId && (e.action === 'GetCommandInvocation' || e.action === 'SendCommand'))
    const seen = mine.findIndex((e) => e.action === 'GetCommandInvocation' && e.detail?.['status'] === out.Status)
    const at = (i: number) => Date.parse(mine[i]?.at ?? '')
    if (seen > 0) {
      polled.push(at(seen) - endedAt)
      interval.push(at(seen) - at(seen - 1))
    }
  }
  return { returned, polled, interval }
}

const ms = (values: number[], p: number) => percentile([...values].sort((a, b) => a - b), p).toFixed(1)
const rows = []
const lagLines: string[] = []
for (const command of COMMANDS) {
  const argv = command.split(' ')
  for (const concurrency of settings.levels) {
    const clients = await Promise.all(Array.from({ length: concurrency }, async (_, w) => connectMcp(gateway.url, await gateway.bearer(`bench-${w}`, ['bench']))))
    const viaDirect: Finished[] = []
    const viaAirlock: Finished[] = []
    const direct: Call[] = Array.from({ length: concurrency }, (_, w) => () => directCall(instanceIds[w] ?? '', argv, viaDirect))
    const airlock: Call[] = clients.map((mcp, w) => async () => {
      const instance = instanceIds[w] ?? ''
      const result = await mcp.callTool({ name: 'ssm_run', arguments: { connection: 'bench-fleet', instance, command } })
      viaAirlock.push({ commandId: latestCommand(instance), instanceId: instance, returnedAt: systemClock.now() })
      return result.isError !== true
    })
    const results = await withGatewayCpu(gateway, 'airlock', () => interleave(concurrency, [['direct', direct], ['airlock', airlock]], settings))
    await Promise.all(clients.map((c) => c.close()))
    const [d, a] = [results.get('direct'), results.get('airlock')]
    if (d === undefined || a === undefined) throw new TypeError('missing run')
    rows.push({ label: `direct "${command}" (poll ${TIGHT_POLL_MS} ms)`, baseline: d, measured: [[`airlock (audit ${settings.durability})`, a]] as [string, LoadResult][] })
    const dl = await lags(viaDirect, false)
    const al = await lags(viaAirlock, true)
    lagLines.push(
      `"${command}" ×${concurrency}`.padEnd(18) +
        ` direct returned +${ms(dl.returned, 50)} / +${ms(dl.returned, 99)}` +
        `   airlock returned +${ms(al.returned, 50)} / +${ms(al.returned, 99)}, its poll saw it +${ms(al.polled, 50)} / +${ms(al.polled, 99)}` +
        ` (poll interval then ${ms(al.interval, 50)} / ${ms(al.interval, 99)})`,
    )
  }
}
printComparison(
  `ssm_run through Airlock vs SendCommand + GetCommandInvocation every ${TIGHT_POLL_MS} ms, emulator delivery delay ${DELIVERY_MS} ms,\n` +
    `${settings.durationMs} ms per variant in ${settings.rounds} alternating slices; ratio and +ms are against the row above.`,
  rows,
)
console.log('\nms from the invocation\'s end (emulator ExecutionEndDateTime) to the result, p50 / p99 (warm-up calls included)')
for (const line of lagLines) console.log(line)

await gateway.stop()
await emulator.close()
