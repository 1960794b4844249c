import type { AnyToolDefinition } from './define-tool.js'
import kubectl from './kubectl.js'
import listConnections from './list-connections.js'
import listRequests from './list-requests.js'
import reviewRequest from './review-request.js'
import sqlQuery from './sql-query.js'
import ssmRun from './ssm-run.js'
import whoami from './whoami.js'

/** Every tool the gateway offers. Adding a tool = adding its file and one line here. */
export const registeredTools: readonly AnyToolDefinition[] = [whoami, listConnections, sqlQuery, ssmRun, kubectl, listRequests, reviewRequest]
