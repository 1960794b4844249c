import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { sendBounded } from '../src/aws/bounded-send.js'
import { unknownOutcome } from '../src/aws/request-outcome.js'
import { GuardError, PolicyError, UpstreamError } from '../src/errors.js'
import { buildInstanceScript, findPathRefusal } from '../src/guard/shell/build-instance-script.js'
import { matchTemplate } from '../src/guard/shell/match-template.js'
import { MAX_COMMAND_BYTES, tokenizeCommand } from '../src/guard/shell/tokenize-command.js'
import { defineTool } from './define-tool.js'
import { mapSsmError } from './ssm-run/map-ssm-error.js'
import { runDeadline, runShellScript } from './ssm-run/run-shell-script.js'
import { waitForInvocation } from './ssm-run/wait-for-invocation.js'

const STATUSES = ['Success', 'Failed', 'TimedOut', 'Cancelled'] as const
/** SSM's own truncation markers (GetCommandInvocation keeps 24,000 / 8,000 characters). */
const SSM_MARKERS = ['\n---Output truncated---', '\n---Error truncated----']

function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return text
  return bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '')
}

/** Caps stdout + stderr at `max` bytes, keeping at least a quarter for stderr when both are long. */
function capOutput(stdout: string, stderr: string, max: number): { stdout: string; stderr: string; capped: boolean } {
  const outBytes = Buffer.byteLength(stdout)
  const errBytes = Buffer.byteLength(stderr)
  if (outBytes + errBytes <= max) return { stdout, stderr, capped: false }
  const errBudget = Math.min(errBytes, Math.max(max - outBytes, Math.floor(max / 4)))
  return { stdout: cutUtf8(stdout, max - errBudget), stderr: cutUtf8(stderr, errBudget), capped: true }
}

/**
 * Runs one allowed command on one instance of an SSM connection through Run Command. The command
 * is tokenized, matched against the grant's templates and re-quoted before any AWS call; the
 * instance must belong to the connection. Outcomes on the instance (Success, Failed, TimedOut by
 * the agent, Cancelled by someone else) are results, not errors; the gateway throws only when it
 * cannot get an outcome: CANCELLED (caller aborted; CancelCommand sent), COMMAND_TIMED_OUT (no
 * result by the gateway's own deadline), AWS_OUTCOME_UNKNOWN (SendCommand failed after it may
 * have reached AWS; not retried), INSTANCE_UNAVAILABLE, AWS_* codes, and PATH_NOT_ALLOWED when
 * the instance found that a `{path:…}` argument leads outside its tree (then only the check ran).
 */
export default defineTool({
  name: 'ssm_run',
  title: 'Run an allowed shell command on an instance',
  description:
    'Runs one shell command on an EC2 instance of an SSM connection, through AWS Systems Manager Run Command. ' +
    'Only commands matching your grant\'s templates are accepted, as plain words: no pipes, redirections, ' +
    'variables, globs or command chaining. A non-zero exit is reported as status Failed with its exit code; ' +
    'a run longer than the grant allows is stopped and reported as status TimedOut with the output so far. ' +
    'Paths are resolved on the instance first: one that is missing or leads (through a symbolic link) outside the allowed tree is refused.',
  connectionKinds: ['ssm'],
  input: {
    instance: z.string().min(1).max(255).describe('Instance id (i-…) or its Name tag value'),
    command: z.string().min(1).max(MAX_COMMAND_BYTES).describe('The command as you would type it, e.g. "systemctl status nginx"'),
  },
  output: {
    instance: z.string(),
    status: z.enum(STATUSES),
    exitCode: z.number().int(),
    stdout: z.string(),
    stderr: z.string(),
    truncated: z.boolean(),
    durationMs: z.number().int(),
  },
  // The grant decides what the commands do; nothing here can prove them read-only.
  annotations: () => ({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }),
  async handler(ctx) {
    const constraints = ctx.grant.ssm
    if (constraints === undefined) {
      throw new PolicyError('POLICY_DENIED', `grant "${ctx.grant.id}" allows ssm_run but lists no ssm.commands`)
    }
    if (ctx.signal.aborted) throw new UpstreamError('CANCELLED', 'ssm_run cancelled before it started')
    // The command is checked before anything reaches AWS.
    const argv = await tokenizeCommand(ctx.args.command)
    const templateIndex = matchTemplate(argv, constraints.templates)
    const template = constraints.templates[templateIndex]
    if (template === undefined) throw new TypeError('matchTemplate returned an index outside the templates')
    // Path arguments were checked as text; the script re-checks where they lead on the instance.
    const nonce = randomBytes(16).toString('hex')
    const script = buildInstanceScript(argv, template, nonce)

    const connection = ctx.connection
    const target = { region: connection.region, roleArn: connection.roleArn, principal: ctx.principal }
    const ssm = ctx.deps.aws.ssm(target)
    const clock = ctx.deps.clock
    const started = clock.now()
    const deadline = runDeadline(started, constraints.timeoutSeconds)
    const instanceId = await ctx.deps.instances.resolve(connection, ctx.args.instance, ssm, { signal: ctx.signal, deadline })

    if (ctx.signal.aborted) throw new UpstreamError('CANCELLED', 'ssm_run cancelled before SendCommand')
    let commandId: string
    try {
      // Never retried once it may have reached AWS (see atMostOnceRetry): a lost answer must not run the command again.
      const sent = await sendBounded(
        (options) => ssm.send(runShellScript(instanceId, script, constraints.timeoutSeconds, `airlock ${ctx.principal.subject}`.slice(0, 100)), options),
        { label: 'SendCommand', signal: ctx.signal, timeoutMs: deadline - clock.now() },
      )
      commandId = sent.Command?.CommandId ?? ''
    } catch (error) {
      throw unknownOutcome(error, `SendCommand to ${instanceId}`) ?? mapSsmError(error, 'SendCommand')
    }
    if (commandId === '') throw new UpstreamError('AWS_ERROR', 'SendCommand returned no CommandId')

    const out = await waitForInvocation({
      ssm,
      commandId,
      instanceId,
      clock,
      deadline,
      signal: ctx.signal,
      progress: ctx.progress,
    })
    const status = z.enum(STATUSES).parse(out.Status)
    const rawOut = out.StandardOutputContent ?? ''
    const rawErr = out.StandardErrorContent ?? ''
    const refusal = findPathRefusal({ exitCode: out.ResponseCode ?? -1, stderr: rawErr }, nonce)
    if (refusal !== undefined) {
      const part = template.parts[refusal.word]
      const tree = part?.kind === 'path' ? part.glob : 'its tree'
      const why = refusal.reason === 'unresolved' ? 'does not resolve (missing, or not searchable)' : `resolves outside ${tree}`
      throw new GuardError('PATH_NOT_ALLOWED', `word ${refusal.word}: ${argv[refusal.word] ?? ''} ${why} on ${instanceId}; SSM command ${commandId} ran only the check`)
    }
    const ssmTruncated = SSM_MARKERS.some((m) => rawOut.endsWith(m) || rawErr.endsWith(m))
    const capped = capOutput(rawOut, rawErr, constraints.maxOutputBytes)
    const structured = {
      instance: instanceId,
      status,
      exitCode: out.ResponseCode ?? -1,
      stdout: capped.stdout,
      stderr: capped.stderr,
      truncated: ssmTruncated || capped.capped,
      durationMs: Math.max(0, Math.round(clock.now() - started)),
    }
    const text = [
      `${instanceId}: ${status}, exit ${structured.exitCode}, ${structured.durationMs} ms${structured.truncated ? ' (output truncated)' : ''}`,
      ...(structured.stdout === '' ? [] : ['--- stdout ---', structured.stdout]),
      ...(structured.stderr === '' ? [] : ['--- stderr ---', structured.stderr]),
    ].join('\n')
    return {
      text,
      structured,
      audit: { instanceId, commandId, templateIndex, argv0: argv[0], status, exitCode: structured.exitCode, truncated: structured.truncated },
    }
  },
})
