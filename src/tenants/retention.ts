/**
 * How long a tenant keeps what the maintenance loop purges, as SQL: each purge joins the tenant as
 * `t` and compares with `now() - <the tenant's days>`.
 */
import { type RawBuilder, sql } from 'kysely';

export type RetentionSetting = 'retention_days' | 'run_retention_days';

/**
 * `now() - N days` for the tenant joined as `t`: its `settings[key]` when that is a number
 * (clamped to 1–36,500 days), otherwise 30. Whether a `null` setting means "keep" is the caller's.
 */
export function tenantRetentionCutoff(key: RetentionSetting): RawBuilder<Date> {
  const k = sql.lit(key);
  return sql<Date>`now() - make_interval(days => coalesce(
    case when jsonb_typeof(t.settings -> ${k}) = 'number'
         then least(greatest((t.settings ->> ${k})::numeric, 1), 36500)::int end, 30))`;
}
