/**
 * Bounds of the dev IdP's `ttl` token-request parameter (seconds; client credentials only): a
 * header token cannot be revoked or refreshed, so even a script's token lives an hour at most.
 */
export const CLIENT_TOKEN_TTL_SECONDS = { min: 60, max: 3600 } as const
