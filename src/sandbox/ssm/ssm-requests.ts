import { z } from 'zod'

// SSM's own payloads: loose objects (the SDK may add fields), strict about the fields we read.
const commandId = z.string().length(36)
const instanceId = z.string().min(10).max(124)

export const sendCommandRequestSchema = z.object({
  DocumentName: z.string().min(1).max(256),
  InstanceIds: z.array(instanceId).max(50).optional(),
  Targets: z.array(z.object({ Key: z.string().min(1).max(163), Values: z.array(z.string()).max(50) })).max(5).optional(),
  DocumentVersion: z.string().optional(),
  TimeoutSeconds: z.number().int().min(30).max(2_592_000).optional(),
  Comment: z.string().max(100).optional(),
  Parameters: z.record(z.string(), z.array(z.string())).optional(),
  MaxConcurrency: z.string().optional(),
  MaxErrors: z.string().optional(),
})
export type SendCommandRequest = z.infer<typeof sendCommandRequestSchema>

export const getCommandInvocationRequestSchema = z.object({
  CommandId: commandId,
  InstanceId: instanceId,
  PluginName: z.string().min(4).optional(),
})

export const listCommandInvocationsRequestSchema = z.object({
  CommandId: commandId.optional(),
  InstanceId: instanceId.optional(),
  MaxResults: z.number().int().min(1).max(50).optional(),
  NextToken: z.string().optional(),
  Filters: z.array(z.object({ key: z.string(), value: z.string() })).max(5).optional(),
  Details: z.boolean().optional(),
})

export const cancelCommandRequestSchema = z.object({
  CommandId: commandId,
  InstanceIds: z.array(instanceId).max(50).optional(),
})

export const describeInstanceInformationRequestSchema = z.object({
  InstanceInformationFilterList: z.array(z.object({ key: z.string(), valueSet: z.array(z.string()).min(1) })).optional(),
  Filters: z.array(z.object({ Key: z.string().min(1).max(163), Values: z.array(z.string()).min(1).max(100) })).optional(),
  MaxResults: z.number().int().min(5).max(50).optional(),
  NextToken: z.string().optional(),
})
export type DescribeInstanceInformationRequest = z.infer<typeof describeInstanceInformationRequestSchema>
