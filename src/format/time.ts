/** "3d", "5h", "12m", "40s" since `iso` (kubectl's AGE). */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "3d", "5h", "12m" until `iso`, in age()'s units ("0s" once it has passed). */
export function timeUntil(iso: string, now = Date.now()): string {
  return age(new Date(now - Math.max(0, Date.parse(iso) - now)).toISOString(), now);
}
