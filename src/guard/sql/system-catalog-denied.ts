import { GuardError } from '../../errors.js'

/**
 * The refusal for a statement that reads system catalogs or server state under a grant that
 * does not opt in; it names what was read and how an administrator allows it.
 */
export function systemCatalogDenied(reason: string): GuardError {
  return new GuardError('SQL_SYSTEM_CATALOG', `${reason}; an administrator can allow it for this grant with "sql": { "allowSystemCatalogs": true }`)
}
