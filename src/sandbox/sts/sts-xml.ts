import type { StsFault } from './sts-fault.js'

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'

/** Escapes text for an XML element body. */
export function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** A nested element tree: strings become escaped text, objects nested elements; undefined is omitted. */
export type XmlTree = { readonly [name: string]: string | number | XmlTree | undefined }

export function xmlElements(tree: XmlTree): string {
  let out = ''
  for (const [name, value] of Object.entries(tree)) {
    if (value === undefined) continue
    const inner = typeof value === 'object' ? xmlElements(value) : xmlText(String(value))
    out += `<${name}>${inner}</${name}>`
  }
  return out
}

/** `<{Action}Response><{Action}Result>…</…Result><ResponseMetadata>…` as the awsQuery protocol returns it. */
export function stsResponseXml(action: string, result: XmlTree, requestId: string): string {
  return (
    `<${action}Response xmlns="${STS_XMLNS}">` +
    `<${action}Result>${xmlElements(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${xmlText(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  )
}

/** The awsQuery error envelope; the SDK reads `Error.Code` to pick the exception class. */
export function stsErrorXml(fault: StsFault, requestId: string): string {
  const type = fault.status >= 500 ? 'Receiver' : 'Sender'
  return (
    `<ErrorResponse xmlns="${STS_XMLNS}">` +
    `<Error><Type>${type}</Type><Code>${xmlText(fault.code)}</Code><Message>${xmlText(fault.message)}</Message></Error>` +
    `<RequestId>${xmlText(requestId)}</RequestId>` +
    `</ErrorResponse>`
  )
}
