// The reporting views of migration 0003 (chain_summary replaced by 0007, group_tree by 0008), documented in
// docs/schema.md. BI depends on their names and columns: add, never rename.
export const REPORTING_VIEWS = [
  'chain_corp_events',
  'group_tree',
  'corps_current',
  'chain_summary',
  'sync_freshness',
] as const;

/** The schema every table and view lives in. */
export const SCHEMA = 'wecom';
