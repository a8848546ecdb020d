/** "4412**********1234": identity numbers are shown masked (docs/device-contract.md §5). */
export function maskIdNumber(value) {
  if (!value || value.length < 8) return value || '—';
  return `${value.slice(0, 4)}${'*'.repeat(value.length - 8)}${value.slice(-4)}`;
}
